//! Text normalisation for matching triggers and menu choices.
//!
//! Contacts type "Olá!", "OLA" or " ola " and mean the same thing, so every
//! comparison happens on a normalised form: Unicode canonical decomposition
//! with combining marks removed (accents), lowercase, punctuation turned into
//! spaces, and runs of whitespace collapsed into one space.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Returns the matching form of `text`: accent-free, lowercase, with
/// punctuation replaced by spaces and whitespace collapsed.
pub fn normalize(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut pending_space = false;
    for character in text
        .nfd()
        .filter(|character| !is_combining_mark(*character))
    {
        if character.is_alphanumeric() {
            if pending_space && !normalized.is_empty() {
                normalized.push(' ');
            }
            pending_space = false;
            normalized.extend(character.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    normalized
}

/// Returns true when the normalised `keyword` occurs in the normalised
/// `text` as whole words (so "hi" matches "oh hi there" but not "this").
pub fn contains_words(normalized_text: &str, normalized_keyword: &str) -> bool {
    if normalized_keyword.is_empty() {
        return false;
    }
    let padded_text = format!(" {normalized_text} ");
    let padded_keyword = format!(" {normalized_keyword} ");
    padded_text.contains(&padded_keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_accents_case_and_punctuation() {
        assert_eq!(normalize("  Olá,   MUNDO!! "), "ola mundo");
        assert_eq!(normalize("Çà-va?"), "ca va");
        assert_eq!(normalize("¡¿!"), "");
    }

    #[test]
    fn matches_whole_words_only() {
        assert!(contains_words("oh hi there", "hi"));
        assert!(contains_words("hi", "hi"));
        assert!(!contains_words("this is it", "hi"));
        assert!(contains_words("opening hours please", "opening hours"));
        assert!(!contains_words("anything", ""));
    }
}
