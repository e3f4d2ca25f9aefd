//! R7: registration and renewal periods.

use chrono::{DateTime, Months, Utc};

use crate::error::EppError;
use crate::model::{OffendingValue, PeriodSpec, Text};

/// R8 (D2014 §C, FAQ): a renewal adds its years to the current expiry, and
/// the new expiry may not be more than five years after the day of the
/// request. Returns the new expiry.
///
/// # Errors
/// 2306 with the R8 reason.
pub fn r8_five_year_cap(
    current_expiry: DateTime<Utc>,
    years: u32,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, EppError> {
    let new_expiry = current_expiry
        .checked_add_months(Months::new(12 * years))
        .ok_or_else(|| EppError::Internal("expiry date out of range".into()))?;
    let cap = now
        .date_naive()
        .checked_add_months(Months::new(60))
        .ok_or_else(|| EppError::Internal("date out of range".into()))?;
    if new_expiry.date_naive() > cap {
        let (new, today) = (new_expiry.format("%Y-%m-%d"), now.format("%Y-%m-%d"));
        return Err(EppError::Policy(
            Text::new(
                format!("R8: the new expiry {new} would be more than 5 years after {today}"),
                format!("R8 : la nouvelle échéance {new} serait à plus de 5 ans du {today}"),
            ),
            Some(OffendingValue::Element {
                ns: "domain",
                name: "period",
                text: years.to_string(),
            }),
        ));
    }
    Ok(new_expiry)
}

/// R7 (D2014 §C, FAQ): 1 to 5 years, as `unit="y"` 1–5 or `unit="m"` 12–60 in
/// whole years; no period means one year. Anything else is a 2004.
///
/// # Errors
/// [`EppError::ValueRange`] with the R7 reason.
pub fn r7_period_years(period: Option<PeriodSpec>) -> Result<u32, EppError> {
    let Some(p) = period else { return Ok(1) };
    let years = if p.months {
        (p.value % 12 == 0).then_some(p.value / 12)
    } else {
        Some(p.value)
    };
    match years {
        Some(y) if (1..=5).contains(&y) => Ok(y),
        _ => {
            let unit = if p.months { "m" } else { "y" };
            Err(EppError::ValueRange(
                Text::new(
                    format!(
                        "R7: a period must be 1 to 5 years (unit y 1-5, or unit m 12-60 in whole years), not {}{unit}",
                        p.value
                    ),
                    format!(
                        "R7 : une période doit être de 1 à 5 ans (unité y 1-5, ou unité m 12-60 en années entières), et non {}{unit}",
                        p.value
                    ),
                ),
                Some(OffendingValue::Element {
                    ns: "domain",
                    name: "period",
                    text: p.value.to_string(),
                }),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{s}T12:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn r8_the_faq_example() {
        // Registered 2014-04-23 for two years: expires 2016-04-22.
        let expiry = day("2016-04-22");
        let now = day("2015-03-15");
        assert_eq!(r8_five_year_cap(expiry, 3, now).unwrap(), day("2019-04-22"));
        let refused = r8_five_year_cap(expiry, 4, now).unwrap_err();
        assert_eq!(refused.result_code().code(), 2306);
        assert_eq!(
            refused.reason().unwrap().en,
            "R8: the new expiry 2020-04-22 would be more than 5 years after 2015-03-15"
        );
    }

    fn y(value: u32) -> Option<PeriodSpec> {
        Some(PeriodSpec {
            value,
            months: false,
        })
    }
    fn m(value: u32) -> Option<PeriodSpec> {
        Some(PeriodSpec {
            value,
            months: true,
        })
    }

    #[test]
    fn r7_accepts_one_to_five_years_and_whole_years_in_months() {
        assert_eq!(r7_period_years(None).unwrap(), 1);
        for (p, want) in [(y(1), 1), (y(5), 5), (m(12), 1), (m(60), 5), (m(36), 3)] {
            assert_eq!(r7_period_years(p).unwrap(), want);
        }
    }

    #[test]
    fn r7_refuses_everything_else_with_2004() {
        for p in [y(0), y(6), y(10), m(6), m(13), m(72), m(0)] {
            let err = r7_period_years(p).unwrap_err();
            assert_eq!(err.result_code().code(), 2004);
            assert!(err.reason().unwrap().en.starts_with("R7"));
        }
    }
}
