//! What an API key may do: its role, and the kinds of access handlers ask for.

use serde::{Deserialize, Serialize};

/// What a key may do.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including products, plugins, raters and keys.
    Admin,
    /// Accounts, policies and their transactions, flat charges, previews.
    PolicySystem,
    /// Collections: payments, invoices, write-offs, disbursements, holds.
    Billing,
    /// Reads only.
    ReadOnly,
}

/// A kind of access a handler needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Configure,
    Transact,
    Collect,
}

impl Role {
    /// Every role, in the order the API documents them.
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::PolicySystem,
        Role::Billing,
        Role::ReadOnly,
    ];

    pub fn allows(self, access: Access) -> bool {
        matches!(
            (self, access),
            (Role::Admin, _)
                | (_, Access::Read)
                | (Role::PolicySystem, Access::Transact)
                | (Role::Billing, Access::Collect)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::PolicySystem => "policy_system",
            Role::Billing => "billing",
            Role::ReadOnly => "read_only",
        }
    }

    /// The role of a name, if it is one.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_their_names_say() {
        assert!(Role::ReadOnly.allows(Access::Read) && !Role::ReadOnly.allows(Access::Transact));
        assert!(
            Role::PolicySystem.allows(Access::Transact)
                && !Role::PolicySystem.allows(Access::Configure)
        );
        assert!(Role::Billing.allows(Access::Collect) && !Role::Billing.allows(Access::Transact));
        assert!(Role::Admin.allows(Access::Configure));
    }

    #[test]
    fn a_role_is_found_by_its_name_and_an_unknown_name_finds_none() {
        assert_eq!(Role::from_name("policy_system"), Some(Role::PolicySystem));
        assert_eq!(Role::from_name("superuser"), None);
    }
}
