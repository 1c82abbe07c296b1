//! E.164 phone numbers and WhatsApp contact ids.
//!
//! Numbers (`numbers.phone_number`) are stored in E.164 form with the plus
//! sign, matching the schema's check `^\+[1-9][0-9]{6,14}$`. Contacts are
//! stored the way WhatsApp names them (`wa_id`): the same digits without the
//! plus sign, so a contact who writes from `+15550199999` is stored with
//! `contact_wa_id = '15550199999'`, exactly as the Cloud API and WhatsApp Web
//! transports will report them.

/// The smallest number of digits an E.164 number may have here (the schema's
/// lower bound).
pub const MINIMUM_E164_DIGITS: usize = 7;

/// The largest number of digits an E.164 number may have.
pub const MAXIMUM_E164_DIGITS: usize = 15;

/// A value that is not an E.164 phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not an E.164 phone number (a plus sign, then 7 to 15 digits not starting with 0, like +15550100001)")]
pub struct InvalidPhoneNumber {
    /// The rejected value, as given.
    pub value: String,
}

/// Checks that `value` is an E.164 phone number as the schema accepts it.
///
/// The value must be exact: no spaces, dashes or brackets.
pub fn validate_e164(value: &str) -> Result<(), InvalidPhoneNumber> {
    let invalid = || InvalidPhoneNumber {
        value: value.to_owned(),
    };
    let digits = value.strip_prefix('+').ok_or_else(invalid)?;
    let n_digits = digits.len();
    let all_digits = digits.bytes().all(|byte| byte.is_ascii_digit());
    let starts_with_zero = digits.starts_with('0');
    if !all_digits
        || starts_with_zero
        || !(MINIMUM_E164_DIGITS..=MAXIMUM_E164_DIGITS).contains(&n_digits)
    {
        return Err(invalid());
    }
    Ok(())
}

/// Returns the WhatsApp contact id (`wa_id`) of an E.164 phone number: its
/// digits without the plus sign.
///
/// A value without a plus sign is returned unchanged, so the function may be
/// applied to ids that are already in `wa_id` form.
pub fn contact_wa_id_from_phone(phone_number: &str) -> String {
    phone_number
        .strip_prefix('+')
        .unwrap_or(phone_number)
        .to_owned()
}

/// Repairs a phone number that came through a URL query string unencoded.
///
/// In `application/x-www-form-urlencoded` a `+` means a space, so
/// `?to=+15550100001` arrives as `" 15550100001"`. This trims the value and,
/// when it is made of digits only, puts the plus sign back. Anything else is
/// returned trimmed, for [`validate_e164`] to judge.
pub fn repair_query_phone_number(value: &str) -> String {
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
        format!("+{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// What a completed pairing linked, compared with the number's own phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkedAccount {
    /// The linked WhatsApp account is the number's own.
    Matches,
    /// Another account was linked: its phone digits (`None` when the
    /// pairing reported no phone-based id at all).
    Other {
        /// The digits of the linked account's phone number, if known.
        linked_digits: Option<String>,
    },
}

/// Returns the phone digits of a WhatsApp user id: `15551234567`,
/// `15551234567@s.whatsapp.net`, `15551234567:12@s.whatsapp.net` (a device)
/// or `15551234567.0:12@s.whatsapp.net` (an agent and a device) all give
/// `15551234567`. A LID (`…@lid`), a group or anything without digits gives
/// `None`: it names no phone number.
pub fn phone_digits_of_wa_id(wa_id: &str) -> Option<String> {
    let wa_id = wa_id.trim();
    let (user, server) = match wa_id.split_once('@') {
        Some((user, server)) => (user, Some(server)),
        None => (wa_id, None),
    };
    if !matches!(server, None | Some("s.whatsapp.net") | Some("c.us")) {
        return None;
    }
    let user = user.split([':', '.']).next().unwrap_or_default();
    let user = user.strip_prefix('+').unwrap_or(user);
    let valid = (MINIMUM_E164_DIGITS..=MAXIMUM_E164_DIGITS).contains(&user.len())
        && user.bytes().all(|byte| byte.is_ascii_digit());
    valid.then(|| user.to_owned())
}

/// Compares the account a pairing linked (`linked_wa_id`, as the transport
/// reports it) with the number's own phone number (`numbers.phone_number`,
/// E.164). Only the digits count, so formatting never decides; an unknown
/// linked phone is not a match, since the number could not be checked.
pub fn check_linked_account(number_phone: &str, linked_wa_id: Option<&str>) -> LinkedAccount {
    let expected: String = number_phone.chars().filter(char::is_ascii_digit).collect();
    let linked_digits = linked_wa_id.and_then(phone_digits_of_wa_id);
    match &linked_digits {
        Some(digits) if !expected.is_empty() && *digits == expected => LinkedAccount::Matches,
        _ => LinkedAccount::Other { linked_digits },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wa_ids_give_their_phone_digits() {
        for wa_id in [
            "15551234567",
            "+15551234567",
            "15551234567@s.whatsapp.net",
            "15551234567:12@s.whatsapp.net",
            "15551234567.0:12@s.whatsapp.net",
            " 15551234567@c.us ",
        ] {
            assert_eq!(
                phone_digits_of_wa_id(wa_id).as_deref(),
                Some("15551234567"),
                "{wa_id}"
            );
        }
        for wa_id in [
            "123456789012345@lid",
            "120363000000000000@g.us",
            "",
            "abc@s.whatsapp.net",
            "123@s.whatsapp.net",
            "1555123456789012345@s.whatsapp.net",
        ] {
            assert_eq!(phone_digits_of_wa_id(wa_id), None, "{wa_id}");
        }
    }

    #[test]
    fn the_linked_account_must_be_the_numbers_own() {
        assert_eq!(
            check_linked_account("+15551234567", Some("15551234567:12@s.whatsapp.net")),
            LinkedAccount::Matches
        );
        assert_eq!(
            check_linked_account("+15551234567", Some("15551234567")),
            LinkedAccount::Matches
        );
        assert_eq!(
            check_linked_account("+15551234567", Some("15559876543:3@s.whatsapp.net")),
            LinkedAccount::Other {
                linked_digits: Some("15559876543".to_owned())
            }
        );
        // A prefix or suffix of the number is another number.
        assert!(matches!(
            check_linked_account("+15551234567", Some("1555123456")),
            LinkedAccount::Other { .. }
        ));
        assert!(matches!(
            check_linked_account("+15551234567", Some("155512345670")),
            LinkedAccount::Other { .. }
        ));
        // Unknown or LID-only: not verified, so refused.
        assert_eq!(
            check_linked_account("+15551234567", None),
            LinkedAccount::Other {
                linked_digits: None
            }
        );
        assert_eq!(
            check_linked_account("+15551234567", Some("123456789012345@lid")),
            LinkedAccount::Other {
                linked_digits: None
            }
        );
    }

    #[test]
    fn accepts_numbers_the_schema_accepts() {
        for value in [
            "+15550100001",
            "+4915112345678",
            "+1234567",
            "+123456789012345",
        ] {
            assert_eq!(validate_e164(value), Ok(()), "{value}");
        }
    }

    #[test]
    fn rejects_numbers_the_schema_rejects() {
        for value in [
            "",
            "+",
            "15550100001",
            "+05550100001",
            "+123456",
            "+1234567890123456",
            "+1555 010 0001",
            "+1555-0100001",
            "++15550100001",
            " +15550100001",
            "+1555010000a",
        ] {
            assert!(
                validate_e164(value).is_err(),
                "{value:?} should be rejected"
            );
        }
    }

    #[test]
    fn the_error_names_the_value() {
        let error = validate_e164("12345").unwrap_err();
        assert!(error.to_string().contains("\"12345\""), "{error}");
    }

    #[test]
    fn contact_ids_drop_the_plus_sign() {
        assert_eq!(contact_wa_id_from_phone("+15550199999"), "15550199999");
        assert_eq!(contact_wa_id_from_phone("15550199999"), "15550199999");
    }

    #[test]
    fn query_numbers_get_their_plus_sign_back() {
        assert_eq!(repair_query_phone_number(" 15550100001"), "+15550100001");
        assert_eq!(repair_query_phone_number("+15550100001"), "+15550100001");
        assert_eq!(repair_query_phone_number("abc"), "abc");
        assert_eq!(repair_query_phone_number(""), "");
    }
}
