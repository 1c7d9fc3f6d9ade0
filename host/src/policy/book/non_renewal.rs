//! Notice that a policy will not be renewed after its last term, given at
//! least the product's `non_renewal_notice_days` before its end.

use super::*;

impl PolicyBook {
    pub(super) fn non_renew(
        &self,
        policy: &str,
        reason: &str,
        context: &CommandContext,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let state = self.policy(policy)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > NON_RENEWAL_REASON_CHARS_MAX {
            return Err(PolicyError::BadNonRenewalReason(
                NON_RENEWAL_REASON_CHARS_MAX,
            ));
        }
        let last = state
            .terms
            .last()
            .ok_or_else(|| PolicyError::Internal("policy without term".into()))?;
        let ends_on = last.period.end();
        if let Some(notice) = &state.non_renewal {
            return Err(PolicyError::NotRenewed {
                policy: policy.to_string(),
                ends_on: notice.ends_on,
            });
        }
        let last_day = ends_on.pred_opt().expect("a term has a last day");
        if is_cancelled_at(&state.transactions, last.number, last_day) {
            return Err(PolicyError::NotInForce {
                policy: policy.to_string(),
                date: last_day,
            });
        }
        let zone = parse_time_zone(&state.header.time_zone)
            .map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
        let today = context
            .today
            .unwrap_or_else(|| local_date(context.issued_at, zone));
        let notice_days = state.header.product.non_renewal_notice_days;
        if today + chrono::Duration::days(i64::from(notice_days)) > ends_on {
            return Err(PolicyError::NoticeTooLate {
                policy: policy.to_string(),
                notice_days,
                ends_on,
                today,
            });
        }
        Ok(vec![BookEvent::NonRenewed {
            policy: policy.to_string(),
            notice: NonRenewal {
                term: last.number,
                ends_on,
                reason: reason.to_string(),
                notice_on: today,
                actor: context.actor.clone(),
                issued_at: context.issued_at,
            },
        }])
    }
}
