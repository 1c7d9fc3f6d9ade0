//! Which event store the integration tests run on: sled by default, or
//! PostgreSQL when `PREMIA_TEST_BACKEND=postgres` (with
//! `PREMIA_TEST_POSTGRES_URL`). `scripts/test.sh` runs the end-to-end suite
//! both ways.

use premia::boot::open_data_dir_with;
use premia::store::{fresh_schema_name, url_with_schema};
use std::path::Path;

/// Whether this run uses PostgreSQL.
pub fn postgres_selected() -> bool {
    std::env::var("PREMIA_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// The `--store` of a data directory: `None` (sled inside it), or a
/// PostgreSQL URL whose schema is remembered in the directory, so that a
/// restart over the same directory finds the same data.
pub fn store_for(data: &Path) -> Option<String> {
    if !postgres_selected() {
        return None;
    }
    let url = std::env::var("PREMIA_TEST_POSTGRES_URL")
        .expect("PREMIA_TEST_BACKEND=postgres needs PREMIA_TEST_POSTGRES_URL");
    std::fs::create_dir_all(data).unwrap();
    let file = data.join("postgres-schema");
    let schema = match std::fs::read_to_string(&file) {
        Ok(schema) => schema,
        Err(_) => {
            let schema = fresh_schema_name("it");
            std::fs::write(&file, &schema).unwrap();
            schema
        }
    };
    Some(url_with_schema(&url, &schema))
}

/// `open_data_dir` on the selected backend.
pub fn open_data_dir(data: &Path) -> Result<premia::api::state::AppState, premia::boot::BootError> {
    open_data_dir_with(data, store_for(data).as_deref())
}
