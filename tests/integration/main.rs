//! Premia's integration tests: one binary, one module per area.

mod api_server;
mod backend;
mod console_browser;
mod crash_loop;
mod harness;
mod hostile_load;
mod plugin_cli;
mod plugin_dates;
mod plugin_faults;
mod plugin_languages;
mod plugin_rating;
mod rate_versions;
mod shadow_rating;
mod support;
mod two_hosts;
mod upgrade;
