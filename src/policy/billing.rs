//! R23 (billing): whether a prepaid balance can pay a charge, and the 2104
//! that refuses a billable command it cannot pay.

use crate::error::EppError;
use crate::model::Text;

/// R23's refusal: the balance cannot pay the price (both in centimes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct R23CannotPay {
    /// The balance, centimes.
    pub balance: i64,
    /// The price, centimes.
    pub price: i64,
}

/// R23: a charge of `price` centimes is paid from `balance` unless that
/// would take a balance below the price; a charge that `allow_negative`
/// (the tacit renewal, R10) and a credit (a price of zero or less) always
/// go through.
///
/// # Errors
/// [`R23CannotPay`] when the balance cannot pay.
pub fn r23_can_pay(balance: i64, price: i64, allow_negative: bool) -> Result<(), R23CannotPay> {
    if price > 0 && balance < price && !allow_negative {
        return Err(R23CannotPay { balance, price });
    }
    Ok(())
}

/// R23: the 2104 for a balance that cannot pay a price, naming the
/// registry's currency when it is known.
pub fn r23_refusal(refusal: R23CannotPay, currency: Option<&str>) -> EppError {
    let (b, p) = (
        crate::config::format_amount(refusal.balance),
        crate::config::format_amount(refusal.price),
    );
    let text = match currency {
        Some(currency) => Text::new(
            format!(
                "R23: the balance of {b} {currency} cannot pay {p} {currency}; nothing was changed"
            ),
            format!(
                "R23 : le solde de {b} {currency} ne peut payer {p} {currency} ; rien n'a été modifié"
            ),
        ),
        None => Text::new(
            format!("R23: the balance of {b} cannot pay {p}; nothing was changed"),
            format!("R23 : le solde de {b} ne peut payer {p} ; rien n'a été modifié"),
        ),
    };
    EppError::Billing(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r23_a_balance_below_the_price_is_refused_with_2104() {
        let refusal = r23_can_pay(999, 1000, false).err();
        assert_eq!(
            refusal,
            Some(R23CannotPay {
                balance: 999,
                price: 1000
            })
        );
        let answer = refusal.map(|r| r23_refusal(r, Some("MAD")).result_code().code());
        assert_eq!(answer, Some(2104));
    }

    #[test]
    fn r23_a_balance_that_covers_the_price_pays() {
        assert!(r23_can_pay(1000, 1000, false).is_ok());
        assert!(r23_can_pay(0, 0, false).is_ok());
    }

    #[test]
    fn r23_a_tacit_renewal_and_a_credit_go_through_any_balance() {
        assert!(r23_can_pay(-500, 1000, true).is_ok());
        assert!(r23_can_pay(-500, -1000, false).is_ok());
    }

    #[test]
    fn r23_the_refusal_names_the_currency_when_known() {
        let refusal = R23CannotPay {
            balance: 150,
            price: 10_000,
        };
        let with = r23_refusal(refusal, Some("MAD"))
            .reason()
            .map(|t| t.en.clone());
        let without = r23_refusal(refusal, None).reason().map(|t| t.en.clone());
        assert_eq!(
            with.as_deref(),
            Some("R23: the balance of 1.50 MAD cannot pay 100.00 MAD; nothing was changed")
        );
        assert_eq!(
            without.as_deref(),
            Some("R23: the balance of 1.50 cannot pay 100.00; nothing was changed")
        );
    }
}
