//! The API's shared state. The rater directory (which plugin, external or
//! native rater a product's rating chain means on this host) is
//! [`crate::config::RaterDirectory`]; the tenant-qualified names are
//! [`crate::config::names`].

use super::auth::KeyRing;
pub use crate::config::RaterDirectory;
pub use crate::config::names::{qualified, qualify_chain, unqualified, unqualify_chain};
use crate::engine::Engine;
use crate::store::Store;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub raters: Arc<RaterDirectory>,
    pub keys: Arc<KeyRing>,
    pub store: Arc<dyn Store>,
}

impl AsRef<Arc<KeyRing>> for AppState {
    fn as_ref(&self) -> &Arc<KeyRing> {
        &self.keys
    }
}
