//! The WASI a plugin sees: present so that guests built for `wasm32-wasip2`
//! link, but exposing nothing of the outside world.
//!
//! - no preopened directories, so no files;
//! - no environment variables and no arguments;
//! - no sockets and no name look-ups;
//! - stdin is empty and stdout/stderr are discarded (use the host `log`);
//! - both clocks are fixed at 2000-01-01T00:00:00Z and never advance;
//! - random numbers come from a generator with a fixed seed.
//!
//! So a plugin's output is a pure function of its input, and replaying a
//! recorded call gives the same answer.

use rand::SeedableRng;
use std::time::Duration;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

/// The instant both clocks show: 2000-01-01T00:00:00Z, in seconds since the
/// Unix epoch.
pub const FIXED_CLOCK_UNIX_SECONDS: u64 = 946_684_800;
/// The seed of every random generator a plugin sees.
pub const RANDOM_SEED: u64 = 0x5052_454D_4941; // "PREMIA"

struct FixedWallClock;

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::from_secs(FIXED_CLOCK_UNIX_SECONDS)
    }
}

struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// Builds the deterministic, capability-free WASI context described above.
pub fn deterministic_wasi_ctx() -> WasiCtx {
    WasiCtxBuilder::new()
        .wall_clock(FixedWallClock)
        .monotonic_clock(FixedMonotonicClock)
        .secure_random(rand::rngs::StdRng::seed_from_u64(RANDOM_SEED))
        .insecure_random(rand::rngs::StdRng::seed_from_u64(RANDOM_SEED))
        .insecure_random_seed(u128::from(RANDOM_SEED))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}
