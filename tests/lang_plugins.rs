//! Builds the JavaScript and Python plugins under `plugins/` (every folder
//! with a `premia-plugin.json` whose language is not Rust) into components
//! in `out_dir`, with the pinned toolchains of `tools/`.
//!
//! A component is rebuilt only when the SHA-256 of its inputs (the plugin's
//! files, the WIT package, the toolchain pins) changed, so an unchanged tree
//! costs nothing; a cold build takes ~7 s a plugin.

use input_hash::InputHash;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds every language plugin; returns the problems (empty when all built).
pub fn build_all(workspace: &Path, out_dir: &Path) -> Vec<String> {
    let _ = std::fs::create_dir_all(out_dir);
    let mut plugins: Vec<(PathBuf, String, String)> = Vec::new();
    let Ok(entries) = std::fs::read_dir(workspace.join("plugins")) else {
        return vec!["no plugins/ directory".into()];
    };
    for entry in entries.flatten() {
        let manifest = entry.path().join("premia-plugin.json");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let field = |name: &str| {
            text.split(&format!("\"{name}\""))
                .nth(1)
                .and_then(|rest| rest.split('"').nth(1))
                .unwrap_or_default()
                .to_string()
        };
        plugins.push((entry.path(), field("language"), field("world")));
    }
    plugins.sort();
    let problems = std::sync::Mutex::new(Vec::new());
    // Two at a time: each toolchain is mostly single-threaded.
    for pair in plugins.chunks(2) {
        std::thread::scope(|scope| {
            for (dir, language, world) in pair {
                let problems = &problems;
                scope.spawn(move || {
                    if let Err(problem) = build_one(workspace, dir, language, world, out_dir) {
                        problems.lock().unwrap().push(problem);
                    }
                });
            }
        });
    }
    problems.into_inner().unwrap()
}

fn build_one(
    workspace: &Path,
    dir: &Path,
    language: &str,
    world: &str,
    out_dir: &Path,
) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().replace('-', "_");
    let out = out_dir.join(format!("{name}.wasm"));
    let stamp = out_dir.join(format!("{name}.inputs-sha256"));
    let wit = workspace.join("wit").join("since_v0.1.0");
    let mut hasher = InputHash::new();
    hash_tree(&mut hasher, dir);
    hash_tree(&mut hasher, &wit);
    hasher.update(language.as_bytes());
    for pin in [
        "tools/js/package-lock.json",
        "tools/python/requirements.txt",
    ] {
        hasher.update(&std::fs::read(workspace.join(pin)).unwrap_or_default());
    }
    let inputs = hasher.hex();
    if out.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(inputs.as_str()) {
        return Ok(());
    }
    let setup = "run scripts/plugin-toolchains.sh (scripts/test.sh does)";
    let mut command = match language {
        "javascript" => {
            let script = workspace.join("tools/js/componentize.mjs");
            if !workspace
                .join("tools/js/node_modules/@bytecodealliance/componentize-js")
                .exists()
            {
                return Err(format!(
                    "{}: the JavaScript toolchain is not installed: {setup}",
                    dir.display()
                ));
            }
            let mut command = Command::new("node");
            command
                .arg(script)
                .arg(dir.join("src/index.js"))
                .arg(&wit)
                .arg(world)
                .arg(&out);
            command
        }
        "python" => {
            let tool = workspace.join("tools/python/.venv/bin/componentize-py");
            if !tool.exists() {
                return Err(format!(
                    "{}: the Python toolchain is not installed: {setup}",
                    dir.display()
                ));
            }
            let mut command = Command::new(tool);
            command
                .arg("-d")
                .arg(&wit)
                .args(["-w", world, "componentize", "--stub-wasi", "-p"])
                .arg(dir)
                .args(["app", "-o"])
                .arg(&out);
            command
        }
        other => return Err(format!("{}: unknown language {other:?}", dir.display())),
    };
    let output = command
        .current_dir(dir)
        .output()
        .map_err(|e| format!("{}: running the {language} toolchain: {e}", dir.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{}: building the {language} plugin failed: {}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::write(&stamp, inputs).map_err(|e| e.to_string())?;
    Ok(())
}

/// Hashes every file under `dir` (sorted, skipping build output and caches).
fn hash_tree(hasher: &mut InputHash, dir: &Path) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if ["dist", "node_modules", "__pycache__", "wit_world"].contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            hash_tree(hasher, &path);
        } else {
            hasher.update(name.as_bytes());
            hasher.update(&std::fs::read(&path).unwrap_or_default());
        }
    }
}

/// A build script has no dependencies: FNV-1a over 4 lanes is enough to
/// notice a changed input (this is not a security hash).
mod input_hash {
    pub struct InputHash([u64; 4], u64);

    impl InputHash {
        pub fn new() -> Self {
            InputHash(
                [
                    0xcbf2_9ce4_8422_2325,
                    0x8422_2325_cbf2_9ce4,
                    0x1000_0000_01b3,
                    0x0100_0000_01b3_1000,
                ],
                0,
            )
        }

        pub fn update(&mut self, bytes: &[u8]) {
            for &byte in bytes.iter().chain(&[0xff]) {
                for (lane, state) in self.0.iter_mut().enumerate() {
                    *state ^= u64::from(byte) + lane as u64;
                    *state = state.wrapping_mul(0x0100_0000_01b3);
                }
                self.1 += 1;
            }
        }

        pub fn hex(&self) -> String {
            format!(
                "{:016x}{:016x}{:016x}{:016x}-{}",
                self.0[0], self.0[1], self.0[2], self.0[3], self.1
            )
        }
    }
}
