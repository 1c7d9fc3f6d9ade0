//! Payments (DOMAIN section 11): payment methods (a processor's token,
//! sealed in the secret area, and display fields), autopay enrolment, the
//! tenant's payment processor adapter, and collection attempts with their
//! retries by failure class. Pure: the billing run asks for attempts
//! (`engine::payments`), the engine's collection worker sends them
//! (`engine::service::collect`), and the HTTP endpoints are in
//! `api::routes::payments`. The wire protocol is [`protocol`] and
//! `docs/payments.md`.

pub mod attempt;
pub mod card;
pub mod command;
pub mod error;
pub mod protocol;
pub mod retry;
pub mod state;

pub use attempt::{AttemptStatus, CollectionAttempt, FailureClass, ReturnKind};
pub use command::{PaymentCommand, PaymentEvent};
pub use error::PaymentError;
pub use protocol::ProcessorAnswer;
pub use state::{Autopay, MethodType, PaymentMethod, Payments, ProcessorConfig};
