//! The registry's rules and money: `[lifecycle]`, `[authinfo]`, `[policy]`
//! and `[billing]` (the prices, and amounts in centimes).

use serde::Deserialize;

/// The life-cycle engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleSettings {
    /// Seconds between two sweeps inside `serve`.
    pub interval_secs: u64,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self { interval_secs: 60 }
    }
}

/// authInfo policy (RFC 9154).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthInfoSettings {
    /// Days an authInfo works after it was set; 0 means forever.
    pub ttl_days: u32,
}

impl Default for AuthInfoSettings {
    fn default() -> Self {
        Self { ttl_days: 30 }
    }
}

/// Charter settings the sources leave to the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicySettings {
    /// R15: days after a create or an ownership change by which the
    /// registrant's identity must be verified, else the domain is suspended.
    pub identity_verification_days: u32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            identity_verification_days: 15,
        }
    }
}

/// One zone's prices (R23), per year, in the billing currency.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZonePrices {
    /// The zone.
    pub zone: String,
    /// Create, per year.
    #[serde(default)]
    pub create: f64,
    /// Renew (and tacit renewal), per year.
    #[serde(default)]
    pub renew: f64,
    /// Restore from redemption (one year).
    #[serde(default)]
    pub restore: f64,
    /// Change of ownership (one year).
    #[serde(default)]
    pub ownership: f64,
}

/// Billing (R23).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillingSettings {
    /// ISO 4217 currency code.
    pub currency: String,
    /// Prices per zone; a zone without prices costs nothing.
    pub prices: Vec<ZonePrices>,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            currency: "MAD".into(),
            prices: Vec::new(),
        }
    }
}

/// What a registrar is billed for (R23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billable {
    /// `domain:create`.
    Create,
    /// `domain:renew` and the tacit renewal.
    Renew,
    /// RFC 3915 restore.
    Restore,
    /// Change of ownership (R13).
    Ownership,
}

impl BillingSettings {
    /// The price of `years` of `what` in `zone`, in centimes.
    pub fn price(&self, zone: &str, what: Billable, years: u32) -> i64 {
        let Some(p) = self.prices.iter().find(|p| p.zone == zone) else {
            return 0;
        };
        let per_year = match what {
            Billable::Create => p.create,
            Billable::Renew => p.renew,
            Billable::Restore => p.restore,
            Billable::Ownership => p.ownership,
        };
        to_centimes(per_year) * i64::from(years)
    }
}

/// An amount in currency units → centimes.
pub fn to_centimes(amount: f64) -> i64 {
    // Prices are validated finite and non-negative with at most 2 decimals.
    (amount * 100.0).round() as i64
}

/// Centimes → `123.45`.
pub fn format_amount(centimes: i64) -> String {
    let sign = if centimes < 0 { "-" } else { "" };
    let abs = centimes.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}
