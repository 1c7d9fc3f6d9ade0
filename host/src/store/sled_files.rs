//! Makes sled's files durable. sled 0.34's `flush()` writes its log with
//! `sync_file_range` only (no fsync: file size and disk cache are not made
//! durable), so after each flush this syncs what sled writes in its directory:
//!
//! - `db`: the log and pages; `fdatasync` of a handle kept open;
//! - `blobs/<lsn>`: one file per value too big for a log segment (over ~128 KiB);
//!   sled never syncs them: each new or grown one is synced, then `blobs/`;
//! - `conf` (written once when the store is created) and `snap.<lsn>` (sled
//!   syncs a snapshot's content, then renames it): the directory is synced
//!   whenever its list of entries changed.
//!
//! Linux: `fsync` of a read-only descriptor and of a directory both work.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Open handles on a sled directory, and what was last synced.
#[derive(Debug)]
pub(crate) struct SledFiles {
    root: PathBuf,
    root_dir: File,
    db: File,
    blobs_dir: File,
    root_entries: BTreeSet<OsString>,
    blob_lengths: HashMap<OsString, u64>,
    syncs: u64,
}

impl SledFiles {
    /// Opens the handles and syncs every file of the store, its directories,
    /// and the directory that holds the store (for a store just created).
    pub(crate) fn open(root: &Path) -> io::Result<Self> {
        let db = OpenOptions::new()
            .read(true)
            .write(true)
            .open(root.join("db"))?;
        db.sync_all()?;
        let conf = root.join("conf");
        if conf.exists() {
            File::open(conf)?.sync_all()?;
        }
        let mut files = SledFiles {
            root: root.to_path_buf(),
            root_dir: File::open(root)?,
            db,
            blobs_dir: File::open(root.join("blobs"))?,
            root_entries: BTreeSet::new(),
            blob_lengths: HashMap::new(),
            syncs: 0,
        };
        files.sync_blobs()?;
        files.blobs_dir.sync_all()?;
        files.root_entries = entry_names(root)?;
        files.root_dir.sync_all()?;
        if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(parent)?.sync_all()?;
        }
        Ok(files)
    }

    /// Makes everything sled has written so far durable. Call after `flush()`.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.db.sync_data()?;
        if self.sync_blobs()? {
            self.blobs_dir.sync_all()?;
        }
        let entries = entry_names(&self.root)?;
        if entries != self.root_entries {
            self.root_dir.sync_all()?;
            self.root_entries = entries;
        }
        self.syncs += 1;
        Ok(())
    }

    /// How many times `sync` succeeded.
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Syncs every blob file that is new or changed length since it was last
    /// synced; returns whether the blob directory changed.
    fn sync_blobs(&mut self) -> io::Result<bool> {
        let mut changed = false;
        let mut present = BTreeSet::new();
        for entry in fs::read_dir(self.root.join("blobs"))? {
            let entry = entry?;
            let name = entry.file_name();
            let length = match entry.metadata() {
                Ok(metadata) => metadata.len(),
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            if self.blob_lengths.get(&name) != Some(&length) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_all()?,
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                }
                self.blob_lengths.insert(name.clone(), length);
                changed = true;
            }
            present.insert(name);
        }
        let before = self.blob_lengths.len();
        self.blob_lengths.retain(|name, _| present.contains(name));
        Ok(changed || self.blob_lengths.len() != before)
    }
}

fn entry_names(dir: &Path) -> io::Result<BTreeSet<OsString>> {
    fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect()
}
