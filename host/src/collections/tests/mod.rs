//! Billing behaviour end to end through the engine state.
