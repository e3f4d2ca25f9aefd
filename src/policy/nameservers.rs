//! R14 (name servers): how many a domain may have, and which hosts take IP
//! addresses (glue).

use crate::error::EppError;
use crate::model::Text;

/// Most name servers a domain may have (R14).
pub const MAX_NAMESERVERS: usize = 13;

/// R14: a domain has at most [`MAX_NAMESERVERS`] name servers.
///
/// # Errors
/// 2306 with the count.
pub fn r14_nameserver_count(count: usize) -> Result<(), EppError> {
    if count > MAX_NAMESERVERS {
        return Err(EppError::Policy(
            Text::new(
                format!("R14: at most {MAX_NAMESERVERS} name servers per domain, not {count}"),
                format!(
                    "R14 : au plus {MAX_NAMESERVERS} serveurs de noms par domaine, et non {count}"
                ),
            ),
            None,
        ));
    }
    Ok(())
}

/// Why R14 refuses a host's addresses. The command decides the result
/// code: a create misses a parameter (2003), an update breaks the policy
/// (2306).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAddressRefusal {
    /// A host in a registry zone without any IP address (glue).
    GlueMissing,
    /// A host outside the registry's zones with IP addresses.
    OutsideZones,
}

impl HostAddressRefusal {
    /// The reason, naming the host.
    pub fn text(self, host: &str) -> Text {
        match self {
            HostAddressRefusal::GlueMissing => Text::new(
                format!(
                    "R14: {host} is in a registry zone and needs at least one IP address (glue)"
                ),
                format!(
                    "R14 : {host} est dans une zone du registre et nécessite au moins une adresse IP (glue)"
                ),
            ),
            HostAddressRefusal::OutsideZones => Text::new(
                format!("R14: {host} is outside the registry's zones and takes no IP address"),
                format!("R14 : {host} est hors des zones du registre et ne prend pas d'adresse IP"),
            ),
        }
    }
}

/// R14 (RFC 5732): a host under a registry zone has at least one IP
/// address; a host outside every zone has none.
///
/// # Errors
/// Which of the two the host breaks.
pub fn r14_host_addresses(
    in_registry_zone: bool,
    has_addresses: bool,
) -> Result<(), HostAddressRefusal> {
    match (in_registry_zone, has_addresses) {
        (true, false) => Err(HostAddressRefusal::GlueMissing),
        (false, true) => Err(HostAddressRefusal::OutsideZones),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r14_more_than_thirteen_name_servers_is_2306() {
        let refusal = r14_nameserver_count(MAX_NAMESERVERS + 1).err();
        assert_eq!(refusal.map(|e| e.result_code().code()), Some(2306));
    }

    #[test]
    fn r14_thirteen_name_servers_or_none_are_accepted() {
        assert!(r14_nameserver_count(MAX_NAMESERVERS).is_ok());
        assert!(r14_nameserver_count(0).is_ok());
    }

    #[test]
    fn r14_in_zone_hosts_need_glue_and_outside_hosts_take_none() {
        assert_eq!(
            r14_host_addresses(true, false),
            Err(HostAddressRefusal::GlueMissing)
        );
        assert_eq!(
            r14_host_addresses(false, true),
            Err(HostAddressRefusal::OutsideZones)
        );
        assert!(
            HostAddressRefusal::GlueMissing
                .text("ns1.exemple.ma")
                .en
                .contains("ns1.exemple.ma")
        );
    }

    #[test]
    fn r14_in_zone_hosts_with_glue_and_outside_hosts_without_are_accepted() {
        assert_eq!(r14_host_addresses(true, true), Ok(()));
        assert_eq!(r14_host_addresses(false, false), Ok(()));
    }
}
