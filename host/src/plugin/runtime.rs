//! The plugin runtime: compiles components once, keeps them pre-instantiated,
//! and runs every call under the limits of [`PluginLimits`], in a fresh store
//! and instance or, for a plugin registered with a pooled
//! [`InstancePolicy`], in an idle instance kept from an earlier call.
//!
//! A call's life: a new [`Store`] with a fresh [`CallState`], fuel set to
//! `fuel_per_call_max`, an epoch deadline of `wall_time_ms_max`, memory
//! capped by the limiter; the pre-instantiated component is instantiated from
//! the pooling allocator, called once, and dropped (or, when pooled and the
//! call succeeded, kept for the next call). A trap or a limit ends that call
//! and its instance: the next call starts from nothing.

use super::bindings::{v0_1, v0_2, wit_host_v0_2, wit_types};
use super::convert::{rate_request_to_wit, rate_response_bytes, rate_response_from_wit};
use super::error::PluginError;
use super::inspect::{ComponentReport, PluginWorld, WitVersion, inspect_component};
use super::invoicing::{
    adjustments_bytes, adjustments_from_wit, draft_bytes, draft_to_wit, installment_dates_from_wit,
    installments_to_wit,
};
use super::limits::PluginLimits;
use super::policy::InstancePolicy;
use super::pool::{Exports, InstancePool, WarmInstance};
use super::quarantine::{Quarantine, is_strike, lower_this_thread_priority, thread_cpu_time};
use super::state::{CallState, LogLine};
use crate::invoicing::{DraftInvoice, InstallmentDates, InvoiceAdjustments, ScheduleInstallment};
use crate::rating::{RateRequest, RateResponse};
use premia_plugin_sdk::tables::RateTables;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

/// What is known about a registered plugin.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    /// `name@version`.
    pub id: String,
    pub name: String,
    pub version: String,
    pub world: PluginWorld,
    pub wit_version: String,
    pub content_sha256: String,
    pub size_bytes: usize,
    pub imports: Vec<String>,
    pub rate_tables: Vec<String>,
}

/// Measurements of one call, as `premia plugin run` prints them.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallReport {
    pub fuel_consumed: u64,
    pub memory_peak_bytes: usize,
    pub wall_time_us: u64,
    pub output_bytes: usize,
    pub logs: Vec<LogLine>,
    pub logs_dropped: usize,
    /// Whether the call ran in a pooled instance kept from an earlier call.
    pub instance_reused: bool,
}

/// A pre-instantiated plugin, by world and WIT version.
enum WorldPre {
    RaterV0_1(v0_1::rater::RaterPre<CallState>),
    RaterV0_2(v0_2::rater::RaterPre<CallState>),
    InvoicerV0_1(v0_1::invoicer::InvoicerPre<CallState>),
    InvoicerV0_2(v0_2::invoicer::InvoicerPre<CallState>),
}

impl WorldPre {
    fn world(&self) -> PluginWorld {
        match self {
            WorldPre::RaterV0_1(_) | WorldPre::RaterV0_2(_) => PluginWorld::Rater,
            WorldPre::InvoicerV0_1(_) | WorldPre::InvoicerV0_2(_) => PluginWorld::Invoicer,
        }
    }
}

struct LoadedPlugin {
    info: PluginInfo,
    id: Arc<str>,
    pre: WorldPre,
    tables: Arc<RateTables>,
    pool: InstancePool,
}

/// Advances the engine's epoch every `tick` until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine, tick: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("premia-epoch".into())
            .spawn(move || {
                while !stop_flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch ticker thread");
        EpochTicker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Compiles, registers and runs plugins.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    limits: PluginLimits,
    plugins: RwLock<HashMap<String, Arc<LoadedPlugin>>>,
    compiled: Mutex<HashMap<String, Component>>,
    /// The edition hash of each plugin id (its component and rate tables
    /// together), when its configuration gave one: recorded on every
    /// rating it answers.
    editions: RwLock<HashMap<String, String>>,
    /// Where compiled artifacts are kept across restarts, if anywhere.
    artifact_dir: Option<PathBuf>,
    /// Plugins that recently hit a resource limit (see [`Quarantine`]).
    quarantine: Quarantine,
    _ticker: EpochTicker,
}

/// How many core instances one component may hold (Python guests need more
/// than 32).
pub const CORE_INSTANCES_PER_COMPONENT_MAX: u32 = 64;
/// How many linear memories one component may hold.
pub const MEMORIES_PER_COMPONENT_MAX: u32 = 4;
/// How many tables one component may hold.
pub const TABLES_PER_COMPONENT_MAX: u32 = 16;
/// Memory of a pool slot kept resident between calls (reset, not unmapped).
pub const MEMORY_KEEP_RESIDENT_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Table bytes of a pool slot kept resident between calls.
pub const TABLE_KEEP_RESIDENT_BYTES_MAX: usize = 64 * 1024;

/// `PREMIA_PLUGIN_PERFMAP=1` writes `/tmp/perf-<pid>.map` so `perf report`
/// names the functions of plugins (built unstripped) instead of showing
/// `[JIT]` addresses; off by default.
fn profiling_strategy() -> wasmtime::ProfilingStrategy {
    match std::env::var("PREMIA_PLUGIN_PERFMAP").as_deref() {
        Ok("1") => wasmtime::ProfilingStrategy::PerfMap,
        _ => wasmtime::ProfilingStrategy::None,
    }
}

/// The SHA-256 of component bytes, in hex: a plugin's content address.
pub fn content_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where the SHA-256 of the artifact at `path` is recorded.
fn artifact_sha_path(path: &Path) -> PathBuf {
    path.with_extension("cwasm.sha256")
}

/// Keeps `artifact` at `path` with its SHA-256 beside it: the SHA-256
/// first, then the artifact, each written aside and renamed into place, so
/// a reader never finds an artifact whose SHA-256 was not recorded with it
/// (a stale or torn pair only costs a compile). A failed write only costs a
/// compile at the next start.
fn write_artifact(path: &Path, artifact: &[u8]) {
    let place = |to: &Path, bytes: &[u8]| {
        let mut aside = to.as_os_str().to_owned();
        aside.push(".tmp");
        let aside = PathBuf::from(aside);
        std::fs::write(&aside, bytes).is_ok() && std::fs::rename(&aside, to).is_ok()
    };
    let sha = content_sha256(artifact);
    if place(&artifact_sha_path(path), sha.as_bytes()) {
        place(path, artifact);
    }
}

/// The artifact at `path`, if it is there and its SHA-256 is the one
/// recorded beside it; otherwise `None` (compile again).
fn verified_artifact(path: &Path) -> Option<Vec<u8>> {
    let artifact = std::fs::read(path).ok()?;
    let recorded = std::fs::read_to_string(artifact_sha_path(path)).ok()?;
    (recorded.trim() == content_sha256(&artifact)).then_some(artifact)
}

impl PluginRuntime {
    /// A runtime with its own engine, pooling allocator and epoch ticker.
    pub fn new(limits: PluginLimits) -> Result<Self, PluginError> {
        let mut pool = PoolingAllocationConfig::default();
        let calls = limits.concurrent_calls_max;
        pool.total_component_instances(calls)
            .total_core_instances(calls * 16)
            .total_memories(calls * 2)
            .total_tables(calls * 8)
            .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT_MAX)
            .max_memories_per_component(MEMORIES_PER_COMPONENT_MAX)
            .max_tables_per_component(TABLES_PER_COMPONENT_MAX)
            .max_memory_size(limits.memory_bytes_max)
            .table_elements(limits.table_elements_max)
            // Keep the pages a call dirtied resident and reset only those
            // (found with Linux's PAGEMAP_SCAN where the kernel has it), so
            // the next call on the slot takes no page faults. The memory is
            // still reset to its initial image: no state survives a call.
            .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT_BYTES_MAX)
            .table_keep_resident(TABLE_KEEP_RESIDENT_BYTES_MAX)
            .pagemap_scan(Enabled::Auto);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .profiler(profiling_strategy())
            .max_wasm_stack(limits.stack_bytes_max)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| PluginError::Unavailable {
            plugin: "engine".into(),
            message: format!("{e:#}"),
        })?;
        let mut linker = Linker::<CallState>::new(&engine);
        let link_error = |e: wasmtime::Error| PluginError::Unavailable {
            plugin: "linker".into(),
            message: format!("{e:#}"),
        };
        v0_1::rater::premia::plugin::host::add_to_linker::<CallState, HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )
        .map_err(link_error)?;
        wit_types::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)
            .map_err(link_error)?;
        wit_host_v0_2::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)
            .map_err(link_error)?;
        // 0.2's `types` interface reuses 0.1's Rust types (see `bindings`), so
        // no generated code links it: it holds types only, nothing to add.
        linker
            .instance("premia:plugin/types@0.2.0")
            .map_err(link_error)?;
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(link_error)?;
        let ticker = EpochTicker::start(
            engine.clone(),
            Duration::from_millis(limits.epoch_tick_ms.max(1)),
        );
        let quarantine = Quarantine::new(limits.quarantine_ms, limits.quarantined_calls_max);
        Ok(PluginRuntime {
            engine,
            linker,
            quarantine,
            limits,
            plugins: RwLock::new(HashMap::new()),
            compiled: Mutex::new(HashMap::new()),
            editions: RwLock::new(HashMap::new()),
            artifact_dir: None,
            _ticker: ticker,
        })
    }

    /// Keeps compiled artifacts in `dir`, named by content hash and engine
    /// compatibility hash, each with its SHA-256 recorded beside it, so a
    /// restart deserializes (~0.1 ms, plus hashing the artifact) instead of
    /// compiling (~60 ms) each plugin. An artifact whose SHA-256 does not
    /// match is compiled again, never loaded.
    pub fn with_artifact_dir(mut self, dir: impl Into<PathBuf>) -> Result<Self, PluginError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| PluginError::Unavailable {
            plugin: "artifact cache".into(),
            message: format!("{}: {e}", dir.display()),
        })?;
        self.artifact_dir = Some(dir);
        Ok(self)
    }

    fn artifact_path(&self, sha: &str) -> Option<PathBuf> {
        let dir = self.artifact_dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        Some(dir.join(format!("{sha}-{:016x}.cwasm", hasher.finish())))
    }

    /// Serializes a compiled component for the artifact cache.
    fn serialize(&self, component: &Component) -> Result<Vec<u8>, PluginError> {
        component.serialize().map_err(|e| PluginError::Unavailable {
            plugin: "serialize".into(),
            message: format!("{e:#}"),
        })
    }

    /// Loads an artifact of the artifact cache. Private: only
    /// [`PluginRuntime::compile`] calls it, on bytes it read back from the
    /// cache and checked against the SHA-256 recorded beside them.
    ///
    /// # Safety
    ///
    /// `artifact` must be bytes [`PluginRuntime::serialize`] wrote, unchanged:
    /// wasmtime runs the machine code in them as it is (it checks only the
    /// engine compatibility hash in their header), so any other bytes are
    /// undefined behaviour.
    #[allow(unsafe_code)]
    unsafe fn deserialize(&self, artifact: &[u8]) -> Result<Component, PluginError> {
        // SAFETY: the caller's promise (see above).
        let component = unsafe { Component::deserialize(&self.engine, artifact) };
        component.map_err(|e| {
            PluginError::Incompatible(format!("bad compiled artifact: {}", e.root_cause()))
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &PluginLimits {
        &self.limits
    }

    /// Compiles component bytes, or returns the cached compilation of the
    /// same bytes.
    pub fn compile(&self, bytes: &[u8]) -> Result<(Component, String), PluginError> {
        if bytes.len() > self.limits.component_bytes_max {
            return Err(PluginError::TooLarge {
                bytes: bytes.len(),
                component_bytes_max: self.limits.component_bytes_max,
            });
        }
        let sha = content_sha256(bytes);
        if let Some(component) = self.compiled.lock().expect("compile cache lock").get(&sha) {
            return Ok((component.clone(), sha));
        }
        if wasmparser_is_core_module(bytes) {
            return Err(PluginError::Incompatible(
                "this is a core WebAssembly module, not a component: build for wasm32-wasip2"
                    .into(),
            ));
        }
        let artifact_path = self.artifact_path(&sha);
        // SAFETY: `verified_artifact` gives only bytes whose SHA-256 is the
        // one `write_artifact` recorded beside them when it wrote what
        // `serialize` made, in Premia's own artifact directory, under a name
        // carrying this engine's compatibility hash (a file truncated,
        // corrupted or replaced by anything else is compiled again instead).
        #[allow(unsafe_code)]
        let cached = artifact_path
            .as_deref()
            .and_then(verified_artifact)
            .and_then(|artifact| unsafe { self.deserialize(&artifact) }.ok());
        let component = match cached {
            Some(component) => component,
            None => {
                let component = Component::new(&self.engine, bytes).map_err(|e| {
                    PluginError::Incompatible(format!("not a valid component: {}", e.root_cause()))
                })?;
                if let Some(path) = &artifact_path {
                    // A failed write only costs a compile at the next start.
                    if let Ok(artifact) = self.serialize(&component) {
                        write_artifact(path, &artifact);
                    }
                }
                component
            }
        };
        self.compiled
            .lock()
            .expect("compile cache lock")
            .insert(sha.clone(), component.clone());
        Ok((component, sha))
    }

    /// Inspects component bytes: world, WIT version, imports, exports and
    /// the problems that make it incompatible.
    pub fn inspect(&self, bytes: &[u8]) -> Result<ComponentReport, PluginError> {
        let (component, sha) = self.compile(bytes)?;
        let mut report = inspect_component(&self.engine, &component, sha, bytes.len());
        if report.problems.is_empty()
            && let Err(error) = self.pre_instantiate(&component, &report)
        {
            report.problems.push(error.to_string());
        }
        Ok(report)
    }

    fn pre_instantiate(
        &self,
        component: &Component,
        report: &ComponentReport,
    ) -> Result<WorldPre, PluginError> {
        let incompatible = |e: wasmtime::Error| PluginError::Incompatible(format!("{e:#}"));
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(incompatible)?;
        let version = report.wit_version.as_deref().and_then(WitVersion::parse);
        match (report.world, version) {
            (Some(PluginWorld::Rater), Some(WitVersion::V0_1)) => Ok(WorldPre::RaterV0_1(
                v0_1::rater::RaterPre::new(pre).map_err(incompatible)?,
            )),
            (Some(PluginWorld::Rater), Some(WitVersion::V0_2)) => Ok(WorldPre::RaterV0_2(
                v0_2::rater::RaterPre::new(pre).map_err(incompatible)?,
            )),
            (Some(PluginWorld::Invoicer), Some(WitVersion::V0_1)) => Ok(WorldPre::InvoicerV0_1(
                v0_1::invoicer::InvoicerPre::new(pre).map_err(incompatible)?,
            )),
            (Some(PluginWorld::Invoicer), Some(WitVersion::V0_2)) => Ok(WorldPre::InvoicerV0_2(
                v0_2::invoicer::InvoicerPre::new(pre).map_err(incompatible)?,
            )),
            _ => Err(PluginError::Incompatible(
                "it exports no Premia world".into(),
            )),
        }
    }

    /// Validates, compiles and registers a plugin as `name@version` with a
    /// fresh instance for every call, replacing any plugin of the same id.
    /// Refuses oversized components, unknown worlds or versions, and
    /// forbidden imports.
    pub fn register(
        &self,
        name: &str,
        version: &str,
        bytes: &[u8],
        tables: RateTables,
    ) -> Result<PluginInfo, PluginError> {
        self.register_with_policy(name, version, bytes, tables, InstancePolicy::Fresh)
    }

    /// [`PluginRuntime::register`] with an instance policy.
    pub fn register_with_policy(
        &self,
        name: &str,
        version: &str,
        bytes: &[u8],
        tables: RateTables,
        policy: InstancePolicy,
    ) -> Result<PluginInfo, PluginError> {
        let report = self.inspect(bytes)?;
        if !report.problems.is_empty() {
            return Err(PluginError::Incompatible(report.problems.join("; ")));
        }
        let (component, sha) = self.compile(bytes)?;
        let pre = self.pre_instantiate(&component, &report)?;
        let id = format!("{name}@{version}");
        let info = PluginInfo {
            id: id.clone(),
            name: name.to_string(),
            version: version.to_string(),
            world: report.world.expect("a compatible component has a world"),
            wit_version: report.wit_version.unwrap_or_default(),
            content_sha256: sha,
            size_bytes: bytes.len(),
            imports: report.imports,
            rate_tables: tables.names().into_iter().map(str::to_string).collect(),
        };
        let loaded = LoadedPlugin {
            info: info.clone(),
            id: Arc::from(id.as_str()),
            pre,
            tables: Arc::new(tables),
            pool: InstancePool::new(policy),
        };
        self.plugins
            .write()
            .expect("plugin registry lock")
            .insert(id, Arc::new(loaded));
        tracing::info!(plugin = %info.id, sha256 = %info.content_sha256, world = ?info.world, %policy, "plugin registered");
        Ok(info)
    }

    /// Changes how plugin `id` gets its instances; drops its idle instances.
    pub fn set_instance_policy(&self, id: &str, policy: InstancePolicy) -> Result<(), PluginError> {
        self.loaded(id)?.pool.set_policy(policy);
        Ok(())
    }

    /// How plugin `id` gets its instances.
    pub fn instance_policy(&self, id: &str) -> Result<InstancePolicy, PluginError> {
        Ok(self.loaded(id)?.pool.policy())
    }

    /// How many idle instances plugin `id` keeps for its next calls.
    pub fn idle_instances(&self, id: &str) -> Result<usize, PluginError> {
        Ok(self.loaded(id)?.pool.idle_count())
    }

    /// The registered plugin `id`, if any.
    pub fn plugin(&self, id: &str) -> Option<PluginInfo> {
        self.plugins
            .read()
            .expect("plugin registry lock")
            .get(id)
            .map(|p| p.info.clone())
    }

    /// Whether a plugin `id` is registered.
    pub fn is_registered(&self, id: &str) -> bool {
        self.plugins
            .read()
            .expect("plugin registry lock")
            .contains_key(id)
    }

    /// Records the edition hash of plugin `id` (see
    /// [`crate::config::PluginVersion::edition_sha256`]).
    pub fn set_edition(&self, id: &str, edition_sha256: &str) {
        self.editions
            .write()
            .expect("editions lock")
            .insert(id.to_string(), edition_sha256.to_string());
    }

    /// The edition hash of plugin `id`, if its configuration gave one.
    pub fn edition(&self, id: &str) -> Option<String> {
        self.editions
            .read()
            .expect("editions lock")
            .get(id)
            .cloned()
    }

    /// The id and content hash of registered plugin `id`, without copying
    /// the rest of its description (asked on every rating call).
    pub fn identity(&self, id: &str) -> Option<(String, String)> {
        self.plugins
            .read()
            .expect("plugin registry lock")
            .get(id)
            .map(|p| (p.info.id.clone(), p.info.content_sha256.clone()))
    }

    /// Every registered plugin, sorted by id.
    pub fn list(&self) -> Vec<PluginInfo> {
        let mut list: Vec<PluginInfo> = self
            .plugins
            .read()
            .expect("plugin registry lock")
            .values()
            .map(|p| p.info.clone())
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    fn loaded(&self, id: &str) -> Result<Arc<LoadedPlugin>, PluginError> {
        self.plugins
            .read()
            .expect("plugin registry lock")
            .get(id)
            .cloned()
            .ok_or_else(|| PluginError::UnknownPlugin(id.to_string()))
    }

    /// Runs `body` once under the call limits, in an idle pooled instance
    /// when the plugin's policy pools and one is free, in a fresh store and
    /// instance otherwise, and turns traps and limits into typed errors. A
    /// failed call's instance is dropped here; a successful call's comes back
    /// with its answer, to be given back to the pool only once the answer is
    /// known to be good. A call that hits a resource limit puts the plugin in
    /// quarantine; a quarantined plugin's call runs on a thread of its own at
    /// idle priority (see [`Quarantine`]).
    fn call<R: Send>(
        &self,
        plugin: &LoadedPlugin,
        body: impl FnOnce(&mut Store<CallState>, &Exports) -> wasmtime::Result<R> + Send,
    ) -> (Result<(R, WarmInstance), PluginError>, CallReport) {
        let id = plugin.info.id.as_str();
        let (result, report) = if self.quarantine.is_quarantined(id, Instant::now()) {
            let Some(_place) = self.quarantine.enter() else {
                let refused = PluginError::Quarantined {
                    plugin: id.to_string(),
                    calls_max: self.limits.quarantined_calls_max,
                };
                return (Err(refused), CallReport::default());
            };
            std::thread::scope(|scope| {
                let spawned = std::thread::Builder::new()
                    .name("premia-quarantine".into())
                    .spawn_scoped(scope, || {
                        lower_this_thread_priority();
                        self.call_here(plugin, Lane::Quarantined, body)
                    });
                match spawned {
                    Ok(quarantined) => quarantined
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(error) => (
                        Err(PluginError::Unavailable {
                            plugin: id.to_string(),
                            message: format!("no thread for a quarantined call: {error}"),
                        }),
                        CallReport::default(),
                    ),
                }
            })
        } else {
            self.call_here(plugin, Lane::Normal, body)
        };
        let error_code = result.as_ref().err().map(|e| e.code()).unwrap_or_default();
        crate::telemetry::plugin_call(id, report.fuel_consumed, report.wall_time_us, error_code);
        if let Err(error) = &result
            && is_strike(error)
        {
            crate::telemetry::plugin_quarantined(id);
            self.quarantine.strike(id, Instant::now());
        }
        (result, report)
    }

    /// [`Self::call`] on the calling thread, in `lane`.
    fn call_here<R>(
        &self,
        plugin: &LoadedPlugin,
        lane: Lane,
        body: impl FnOnce(&mut Store<CallState>, &Exports) -> wasmtime::Result<R>,
    ) -> (Result<(R, WarmInstance), PluginError>, CallReport) {
        let started = Instant::now();
        let warm = match lane {
            Lane::Normal => plugin.pool.take(),
            Lane::Quarantined => None,
        };
        let instance_reused = warm.is_some();
        let (mut store, kept) = match warm {
            Some(WarmInstance {
                mut store,
                exports,
                calls,
                ..
            }) => {
                store.data_mut().begin_call();
                (store, Some((exports, calls)))
            }
            None => (self.new_store(plugin), None),
        };
        match lane {
            Lane::Normal => store.set_epoch_deadline(self.limits.deadline_ticks()),
            Lane::Quarantined => self.set_cpu_time_deadline(&mut store),
        }
        let result = store
            .set_fuel(self.limits.fuel_per_call_max)
            .and_then(|()| {
                let (exports, calls) = match kept {
                    Some(kept) => kept,
                    None => (instantiate(&plugin.pre, &mut store)?, 0),
                };
                let answer = body(&mut store, &exports)?;
                Ok((answer, exports, calls + 1))
            });
        let fuel_left = store.get_fuel().unwrap_or(0);
        let result = result.map_err(|error| self.classify(&plugin.info.id, store.data(), error));
        let state = store.data_mut();
        let report = CallReport {
            fuel_consumed: self.limits.fuel_per_call_max.saturating_sub(fuel_left),
            memory_peak_bytes: state.limiter.memory_peak_bytes,
            wall_time_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            output_bytes: 0,
            logs_dropped: state.logs_dropped,
            logs: std::mem::take(&mut state.logs),
            instance_reused,
        };
        let result = result.map(|(answer, exports, calls)| {
            let warm = WarmInstance {
                store,
                exports,
                calls,
                reusable: lane == Lane::Normal,
            };
            (answer, warm)
        });
        (result, report)
    }

    /// A quarantined call's deadline: `wall_time_ms_max` of the CPU time its
    /// thread used (it runs at idle priority and may wait for the CPU), and
    /// `quarantined_wall_time_ms_max` of wall time. Checked every epoch tick.
    fn set_cpu_time_deadline(&self, store: &mut Store<CallState>) {
        let cpu_started = thread_cpu_time();
        let wall_started = Instant::now();
        let cpu_max = Duration::from_millis(self.limits.wall_time_ms_max);
        let wall_max = Duration::from_millis(self.limits.quarantined_wall_time_ms_max);
        store.epoch_deadline_callback(move |mut context| {
            let cpu_used = thread_cpu_time().saturating_sub(cpu_started);
            if cpu_used >= cpu_max {
                Ok(UpdateDeadline::Interrupt)
            } else if wall_started.elapsed() >= wall_max {
                // Starved of CPU, not over its budget: not the plugin's fault.
                context.data_mut().quarantine_wall_cap_hit = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });
        store.set_epoch_deadline(1);
    }

    /// Whether `plugin_id` is quarantined now, and until when (see
    /// [`Quarantine`]).
    pub fn quarantined_for(&self, plugin_id: &str) -> Option<Duration> {
        let now = Instant::now();
        self.quarantine
            .quarantined_until(plugin_id, now)
            .map(|until| until - now)
    }

    /// A new store for one call of `plugin`, under the call limits.
    fn new_store(&self, plugin: &LoadedPlugin) -> Store<CallState> {
        let state = CallState::new(
            Arc::clone(&plugin.id),
            Arc::clone(&plugin.tables),
            &self.limits,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store
    }

    fn classify(&self, plugin: &str, state: &CallState, error: wasmtime::Error) -> PluginError {
        let plugin = plugin.to_string();
        if state.quarantine_wall_cap_hit {
            return PluginError::QuarantineStarved {
                plugin,
                quarantined_wall_time_ms_max: self.limits.quarantined_wall_time_ms_max,
            };
        }
        if state.limiter.memory_limit_hit {
            return PluginError::MemoryLimit {
                plugin,
                memory_bytes_max: self.limits.memory_bytes_max,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => PluginError::OutOfFuel {
                plugin,
                fuel_per_call_max: self.limits.fuel_per_call_max,
            },
            Some(Trap::Interrupt) => PluginError::Deadline {
                plugin,
                wall_time_ms_max: self.limits.wall_time_ms_max,
            },
            Some(Trap::StackOverflow) => PluginError::StackOverflow { plugin },
            Some(trap) => PluginError::Trap {
                plugin,
                message: match state.panic_message() {
                    Some(panic) => format!("{trap}: {panic}"),
                    None => trap.to_string(),
                },
            },
            None => PluginError::Trap {
                plugin,
                message: error.root_cause().to_string(),
            },
        }
    }

    /// Calls a rating plugin once, in a fresh sandbox or a pooled instance
    /// (see [`InstancePolicy`]).
    pub fn rate(
        &self,
        plugin_id: &str,
        request: &RateRequest,
    ) -> Result<(RateResponse, CallReport), PluginError> {
        let plugin = self.world_plugin(plugin_id, PluginWorld::Rater)?;
        self.check_input(plugin_id, request.approx_size_bytes())?;
        let wit_request = rate_request_to_wit(request);
        let (result, mut report) =
            self.call(&plugin, |store, exports| exports.rate(store, &wit_request));
        let (answer, warm) = result?;
        let response = answer.map_err(|error| business_error(plugin_id, error))?;
        report.output_bytes = rate_response_bytes(&response);
        self.check_output(plugin_id, report.output_bytes)?;
        let response =
            rate_response_from_wit(response).map_err(|message| PluginError::InvalidOutput {
                plugin: plugin_id.to_string(),
                message,
            })?;
        plugin.pool.give_back(warm);
        Ok((response, report))
    }

    /// Calls a rating plugin `calls` times in ONE instance, refuelling between
    /// calls, whatever its policy. A reference for benchmarks only.
    pub fn rate_in_one_instance_for_reference(
        &self,
        plugin_id: &str,
        request: &RateRequest,
        calls: u64,
    ) -> Result<RateResponse, PluginError> {
        let plugin = self.world_plugin(plugin_id, PluginWorld::Rater)?;
        let wit_request = rate_request_to_wit(request);
        let (result, _) = self.call(&plugin, |store, exports| {
            let mut last = None;
            for _ in 0..calls.max(1) {
                store.set_fuel(self.limits.fuel_per_call_max)?;
                store.set_epoch_deadline(self.limits.deadline_ticks());
                last = Some(exports.rate(store, &wit_request)?);
            }
            Ok(last.expect("at least one call"))
        });
        let (answer, _) = result?;
        let response = answer.map_err(|error| business_error(plugin_id, error))?;
        rate_response_from_wit(response).map_err(|message| PluginError::InvalidOutput {
            plugin: plugin_id.to_string(),
            message,
        })
    }

    /// Creates a fresh store and instance of a plugin and drops them without
    /// a call: the fixed cost of the sandbox, for benchmarks.
    pub fn instantiate_only_for_reference(&self, plugin_id: &str) -> Result<(), PluginError> {
        let plugin = self.loaded(plugin_id)?;
        let mut store = self.new_store(&plugin);
        store.set_epoch_deadline(self.limits.deadline_ticks());
        let result = store
            .set_fuel(self.limits.fuel_per_call_max)
            .and_then(|()| instantiate(&plugin.pre, &mut store).map(drop));
        result.map_err(|error| self.classify(plugin_id, store.data(), error))
    }

    /// Calls an invoicing plugin's `adjust-invoice` once.
    pub fn adjust_invoice(
        &self,
        plugin_id: &str,
        draft: &DraftInvoice,
    ) -> Result<(InvoiceAdjustments, CallReport), PluginError> {
        let plugin = self.world_plugin(plugin_id, PluginWorld::Invoicer)?;
        self.check_input(plugin_id, draft_bytes(draft))?;
        let wit_draft = draft_to_wit(draft);
        let (result, mut report) = self.call(&plugin, |store, exports| {
            exports.adjust_invoice(store, &wit_draft)
        });
        let (answer, warm) = result?;
        let adjustments = answer.map_err(|error| business_error(plugin_id, error))?;
        report.output_bytes = adjustments_bytes(&adjustments);
        self.check_output(plugin_id, report.output_bytes)?;
        let adjustments = adjustments_from_wit(draft, adjustments).map_err(|message| {
            PluginError::InvalidOutput {
                plugin: plugin_id.to_string(),
                message,
            }
        })?;
        plugin.pool.give_back(warm);
        Ok((adjustments, report))
    }

    /// Calls an invoicing plugin's `schedule-dates` once.
    pub fn schedule_dates(
        &self,
        plugin_id: &str,
        currency: &str,
        installments: &[ScheduleInstallment],
    ) -> Result<(Vec<InstallmentDates>, CallReport), PluginError> {
        let plugin = self.world_plugin(plugin_id, PluginWorld::Invoicer)?;
        let wit_installments = installments_to_wit(installments);
        let currency = currency.to_string();
        let (result, report) = self.call(&plugin, |store, exports| {
            exports.schedule_dates(store, &currency, &wit_installments)
        });
        let (answer, warm) = result?;
        let moved = answer.map_err(|error| business_error(plugin_id, error))?;
        let moved = installment_dates_from_wit(installments, moved).map_err(|message| {
            PluginError::InvalidOutput {
                plugin: plugin_id.to_string(),
                message,
            }
        })?;
        plugin.pool.give_back(warm);
        Ok((moved, report))
    }

    /// The registered plugin `plugin_id`, which must implement `world`.
    fn world_plugin(
        &self,
        plugin_id: &str,
        world: PluginWorld,
    ) -> Result<Arc<LoadedPlugin>, PluginError> {
        let plugin = self.loaded(plugin_id)?;
        match (plugin.pre.world(), world) {
            (PluginWorld::Rater, PluginWorld::Rater)
            | (PluginWorld::Invoicer, PluginWorld::Invoicer) => Ok(plugin),
            (PluginWorld::Rater, PluginWorld::Invoicer) => Err(PluginError::WrongWorld {
                plugin: plugin_id.to_string(),
                expected: "invoicing",
                actual: "rating",
            }),
            (PluginWorld::Invoicer, PluginWorld::Rater) => Err(PluginError::WrongWorld {
                plugin: plugin_id.to_string(),
                expected: "rating",
                actual: "invoicing",
            }),
        }
    }

    fn check_input(&self, plugin_id: &str, input_bytes: usize) -> Result<(), PluginError> {
        if input_bytes > self.limits.input_bytes_max {
            return Err(PluginError::InputTooLarge {
                plugin: plugin_id.to_string(),
                input_bytes,
                input_bytes_max: self.limits.input_bytes_max,
            });
        }
        Ok(())
    }

    fn check_output(&self, plugin_id: &str, output_bytes: usize) -> Result<(), PluginError> {
        if output_bytes > self.limits.output_bytes_max {
            self.quarantine.strike(plugin_id, Instant::now());
            return Err(PluginError::OutputTooLarge {
                plugin: plugin_id.to_string(),
                output_bytes,
                output_bytes_max: self.limits.output_bytes_max,
            });
        }
        Ok(())
    }
}

/// Where a call runs: on the caller's thread, or (for a quarantined plugin)
/// on a thread of its own at idle priority with a CPU-time deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Normal,
    Quarantined,
}

/// Instantiates a pre-instantiated plugin in `store`.
fn instantiate(pre: &WorldPre, store: &mut Store<CallState>) -> wasmtime::Result<Exports> {
    Ok(match pre {
        WorldPre::RaterV0_1(pre) => Exports::RaterV0_1(pre.instantiate(store)?),
        WorldPre::RaterV0_2(pre) => Exports::RaterV0_2(pre.instantiate(store)?),
        WorldPre::InvoicerV0_1(pre) => Exports::InvoicerV0_1(pre.instantiate(store)?),
        WorldPre::InvoicerV0_2(pre) => Exports::InvoicerV0_2(pre.instantiate(store)?),
    })
}

fn business_error(plugin_id: &str, error: wit_types::PluginError) -> PluginError {
    match error {
        wit_types::PluginError::Declined(message) => PluginError::Declined {
            plugin: plugin_id.to_string(),
            message,
        },
        wit_types::PluginError::InvalidInput(message) => PluginError::InvalidInput {
            plugin: plugin_id.to_string(),
            message,
        },
    }
}

/// Whether `bytes` are a core module (version 1) rather than a component.
fn wasmparser_is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[0..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

#[cfg(test)]
mod artifact_tests {
    use super::*;

    /// The smallest component: `(component)`.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

    fn only_artifact(dir: &Path) -> PathBuf {
        let mut artifacts: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "cwasm"))
            .collect();
        assert_eq!(artifacts.len(), 1, "{artifacts:?}");
        artifacts.pop().unwrap()
    }

    #[test]
    fn an_artifact_is_read_back_only_while_its_recorded_sha256_matches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc-0123.cwasm");
        write_artifact(&path, b"compiled");
        assert_eq!(verified_artifact(&path).as_deref(), Some(&b"compiled"[..]));
        std::fs::write(&path, b"compiles").unwrap();
        assert_eq!(verified_artifact(&path), None, "changed bytes");
        write_artifact(&path, b"compiled");
        std::fs::remove_file(artifact_sha_path(&path)).unwrap();
        assert_eq!(verified_artifact(&path), None, "no recorded SHA-256");
    }

    #[test]
    fn a_tampered_artifact_is_compiled_again_instead_of_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let cached = || {
            PluginRuntime::new(PluginLimits::default())
                .unwrap()
                .with_artifact_dir(dir.path())
                .unwrap()
        };
        let (_, sha) = cached().compile(EMPTY_COMPONENT).unwrap();
        let path = only_artifact(dir.path());
        let written = verified_artifact(&path).expect("a verified artifact");
        // A restart loads it.
        assert_eq!(cached().compile(EMPTY_COMPONENT).unwrap().1, sha);
        // Bytes changed behind the cache's back are not loaded: the
        // component is compiled again and its artifact written afresh.
        let mut tampered = written.clone();
        *tampered.last_mut().unwrap() ^= 0xff;
        std::fs::write(&path, &tampered).unwrap();
        assert_eq!(verified_artifact(&path), None);
        assert_eq!(cached().compile(EMPTY_COMPONENT).unwrap().1, sha);
        assert_eq!(verified_artifact(&path), Some(written));
    }
}
