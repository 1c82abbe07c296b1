//! JSON in, JSON out: what the core crates' entry points by name share.
//!
//! The health and alerting crates each expose `call_json` (a
//! `serde_json::Value` in and out, what the shared scenario fixtures are
//! written against) and `call_json_text` (JSON text in and out, what the
//! Wasm boundary uses, skipping the intermediate `Value`). Both dispatch on
//! a name to one pure function; this crate holds the part that does not
//! depend on the functions: the two [`Codec`]s and the [`CallError`] they
//! report, which names the module, the function and the JSON path of a bad
//! input.
//!
//! # Bounds
//!
//! Every text input is bounded before anything reads it: at most
//! [`MAX_INPUT_BYTES`] bytes, and nested at most [`MAX_NESTING_DEPTH`]
//! levels deep (serde_json's own recursion limit, which turns a hostile
//! `[[[[…]]]]` into an error instead of a stack overflow; inside a
//! WebAssembly instance an overflow is a trap that would otherwise poison
//! the instance). [`parse_text`] is the one function that does both and
//! names the JSON path where the input went too deep.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest JSON text an entry point reads (32 MiB). A health sweep over
/// 10,000 numbers is about 3 MB; an Edge Function has 256 MB in all.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// How deep JSON may nest: serde_json's recursion limit, which it enforces
/// while parsing text (each array or object is one level).
pub const MAX_NESTING_DEPTH: usize = 128;

/// The longest JSON path an error message carries; a longer one (a hostile
/// input nested a hundred levels) is cut at a segment boundary and ends in
/// `…`.
pub const MAX_REPORTED_PATH_CHARS: usize = 120;

/// Why an entry point could not answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// The name is not one the module knows.
    #[error("unknown {module} function `{name}` (known: {})", known.join(", "))]
    UnknownFunction {
        /// The module asked (`health`, `alerting`).
        module: &'static str,
        /// The name asked for.
        name: String,
        /// The names the module knows.
        known: &'static [&'static str],
    },
    /// The input does not fit the function's input type.
    #[error("invalid input to {module} `{function}` at `{path}`: {message}")]
    InvalidInput {
        /// The module called.
        module: &'static str,
        /// The function called.
        function: &'static str,
        /// Where in the input the problem is, such as `signals[3].severity`,
        /// or `.` for the whole input.
        path: String,
        /// What is wrong, in serde's words.
        message: String,
    },
    /// The input is larger than the entry point reads.
    #[error(
        "input to {module} `{function}` is {bytes} bytes, more than the limit of {limit} bytes"
    )]
    TooLarge {
        /// The module called.
        module: &'static str,
        /// The function called.
        function: &'static str,
        /// The input's size.
        bytes: usize,
        /// The limit ([`MAX_INPUT_BYTES`] unless the caller set its own).
        limit: usize,
    },
    /// The output could not be turned into JSON (which the types rule out).
    #[error("cannot serialise the output of {module} `{function}`: {message}")]
    Output {
        /// The module called.
        module: &'static str,
        /// The function called.
        function: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// The module and function a call is for, carried into its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The module (`health`, `alerting`).
    pub module: &'static str,
    /// The function within it.
    pub function: &'static str,
}

impl Target {
    /// The error for a name the module does not know.
    pub fn unknown(module: &'static str, name: &str, known: &'static [&'static str]) -> CallError {
        CallError::UnknownFunction {
            module,
            name: name.to_string(),
            known,
        }
    }

    fn invalid_input<E: std::fmt::Display>(
        self,
        error: serde_path_to_error::Error<E>,
    ) -> CallError {
        let (path, message, _) = describe_path_error(error);
        CallError::InvalidInput {
            module: self.module,
            function: self.function,
            path,
            message,
        }
    }

    fn output_error(self, error: serde_json::Error) -> CallError {
        CallError::Output {
            module: self.module,
            function: self.function,
            message: error.to_string(),
        }
    }
}

/// Shortens a JSON path for an error message: at most
/// [`MAX_REPORTED_PATH_CHARS`] characters, cut before a `.` or `[` so no
/// segment is split, then `…`.
pub fn abbreviate_path(path: &str) -> String {
    if path.chars().count() <= MAX_REPORTED_PATH_CHARS {
        return path.to_string();
    }
    let mut cut = 0;
    for (index, character) in path.char_indices() {
        if index > MAX_REPORTED_PATH_CHARS {
            break;
        }
        if index > 0 && (character == '.' || character == '[') {
            cut = index;
        }
    }
    if cut == 0 {
        cut = path
            .char_indices()
            .nth(MAX_REPORTED_PATH_CHARS)
            .map_or(path.len(), |(index, _)| index);
    }
    format!("{}…", &path[..cut])
}

/// The path and message of a deserialisation error, with serde_json's
/// "recursion limit exceeded" said in plain words, and whether that was the
/// problem (serde_json reports it only in its message).
fn describe_path_error<E: std::fmt::Display>(
    error: serde_path_to_error::Error<E>,
) -> (String, String, bool) {
    let path = abbreviate_path(&error.path().to_string());
    let message = error.into_inner().to_string();
    if message.starts_with("recursion limit exceeded") {
        let message =
            format!("nested deeper than the limit of {MAX_NESTING_DEPTH} levels ({message})");
        (path, message, true)
    } else {
        (path, message, false)
    }
}

/// Why [`parse_text`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextInputError {
    /// More bytes than the limit.
    #[error("{bytes} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// The input's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Nested deeper than [`MAX_NESTING_DEPTH`]; `path` is where.
    #[error("at `{path}`: {message}")]
    TooDeep {
        /// The JSON path where the limit was reached, abbreviated
        /// ([`abbreviate_path`]).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Not JSON of the expected shape, or followed by more text; `path` is
    /// where (`.` for the whole input).
    #[error("at `{path}`: {message}")]
    Invalid {
        /// The JSON path of the problem, abbreviated
        /// ([`abbreviate_path`]).
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads JSON text as `T` within bounds: at most `max_bytes` bytes, nested
/// at most [`MAX_NESTING_DEPTH`] levels, nothing after the value. Never
/// recurses deeper than that limit, so a hostile input cannot overflow the
/// stack.
pub fn parse_text<T: DeserializeOwned>(input: &str, max_bytes: usize) -> Result<T, TextInputError> {
    if input.len() > max_bytes {
        return Err(TextInputError::TooLarge {
            bytes: input.len(),
            limit: max_bytes,
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(input);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        match describe_path_error(error) {
            (path, message, true) => TextInputError::TooDeep { path, message },
            (path, message, false) => TextInputError::Invalid { path, message },
        }
    })?;
    deserializer
        .end()
        .map_err(|error| TextInputError::Invalid {
            path: ".".to_string(),
            message: error.to_string(),
        })?;
    Ok(value)
}

/// How an entry point reads its input and writes its output: as a
/// `serde_json::Value` ([`ValueCodec`]) or as JSON text ([`TextCodec`]).
pub trait Codec {
    /// The input's form.
    type Input<'a>;
    /// The output's form.
    type Output;
    /// Reads the input as `T`, naming the path of the first problem.
    fn parse<T: DeserializeOwned>(target: Target, input: Self::Input<'_>) -> Result<T, CallError>;
    /// Writes the output.
    fn render<T: Serialize>(target: Target, output: &T) -> Result<Self::Output, CallError>;
}

/// A `serde_json::Value` in and out.
#[derive(Debug, Clone, Copy)]
pub struct ValueCodec;

impl Codec for ValueCodec {
    type Input<'a> = serde_json::Value;
    type Output = serde_json::Value;

    fn parse<T: DeserializeOwned>(
        target: Target,
        input: serde_json::Value,
    ) -> Result<T, CallError> {
        serde_path_to_error::deserialize(input).map_err(|error| target.invalid_input(error))
    }

    fn render<T: Serialize>(target: Target, output: &T) -> Result<serde_json::Value, CallError> {
        serde_json::to_value(output).map_err(|error| target.output_error(error))
    }
}

/// JSON text in and out; trailing characters after the value are an error.
#[derive(Debug, Clone, Copy)]
pub struct TextCodec;

impl Codec for TextCodec {
    type Input<'a> = &'a str;
    type Output = String;

    fn parse<T: DeserializeOwned>(target: Target, input: &str) -> Result<T, CallError> {
        parse_text(input, MAX_INPUT_BYTES).map_err(|error| match error {
            TextInputError::TooLarge { bytes, limit } => CallError::TooLarge {
                module: target.module,
                function: target.function,
                bytes,
                limit,
            },
            TextInputError::TooDeep { path, message }
            | TextInputError::Invalid { path, message } => CallError::InvalidInput {
                module: target.module,
                function: target.function,
                path,
                message,
            },
        })
    }

    fn render<T: Serialize>(target: Target, output: &T) -> Result<String, CallError> {
        serde_json::to_string(output).map_err(|error| target.output_error(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Input {
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        at_ms: i64,
    }

    const TARGET: Target = Target {
        module: "test",
        function: "f",
    };

    #[test]
    fn both_codecs_read_the_same_input() {
        let text = r#"{"items": [{"at_ms": 1}]}"#;
        let from_text: Input = TextCodec::parse(TARGET, text).unwrap();
        let from_value: Input =
            ValueCodec::parse(TARGET, serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(from_text, from_value);
        assert_eq!(
            TextCodec::render(TARGET, &from_text).unwrap(),
            r#"{"items":[{"at_ms":1}]}"#
        );
    }

    #[test]
    fn a_bad_field_is_named_with_its_path_in_both_codecs() {
        let text = r#"{"items": [{"at_ms": 1}, {"at_ms": "soon"}]}"#;
        let expected = "invalid input to test `f` at `items[1].at_ms`: invalid type: string \"soon\", expected i64";
        let error = TextCodec::parse::<Input>(TARGET, text).unwrap_err();
        assert!(error.to_string().starts_with(expected), "{error}");
        let error =
            ValueCodec::parse::<Input>(TARGET, serde_json::from_str(text).unwrap()).unwrap_err();
        assert!(error.to_string().starts_with(expected), "{error}");
    }

    #[test]
    fn trailing_text_is_refused() {
        let error = TextCodec::parse::<Input>(TARGET, r#"{"items": []} x"#).unwrap_err();
        let CallError::InvalidInput { path, .. } = &error else {
            panic!("{error}");
        };
        assert_eq!(path, ".");
        assert!(error.to_string().contains("trailing characters"), "{error}");
    }

    #[test]
    fn deep_nesting_is_an_error_naming_the_path_not_a_stack_overflow() {
        #[derive(Debug, Deserialize)]
        struct Loose {
            #[allow(dead_code)]
            items: Vec<serde_json::Value>,
        }
        let text = format!(
            r#"{{"items": [{{"at_ms": {}1{}}}]}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let error = TextCodec::parse::<Loose>(TARGET, &text).unwrap_err();
        let CallError::InvalidInput { path, message, .. } = &error else {
            panic!("{error}");
        };
        assert!(path.starts_with("items[0].at_ms[0][0]"), "{path}");
        assert!(path.ends_with('…'), "{path}");
        assert!(
            path.chars().count() <= MAX_REPORTED_PATH_CHARS + 1,
            "{path}"
        );
        assert!(
            message.contains("nested deeper than the limit of 128 levels"),
            "{message}"
        );
        // A typed field refuses the first bracket already.
        let error = TextCodec::parse::<Input>(TARGET, &text).unwrap_err();
        assert!(error.to_string().contains("items[0].at_ms"), "{error}");
    }

    #[test]
    fn nesting_up_to_the_limit_is_read() {
        let depth = MAX_NESTING_DEPTH - 1;
        let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse_text::<serde_json::Value>(&text, MAX_INPUT_BYTES).is_ok());
    }

    #[test]
    fn an_input_over_the_size_limit_is_refused_before_it_is_read() {
        let error = parse_text::<serde_json::Value>("[1, 2, 3]", 4).unwrap_err();
        assert_eq!(error, TextInputError::TooLarge { bytes: 9, limit: 4 });
        assert_eq!(error.to_string(), "9 bytes, more than the limit of 4 bytes");
    }

    #[test]
    fn a_long_path_is_cut_at_a_segment_boundary() {
        let path = format!("nodes[0].text{}", "[0]".repeat(100));
        let short = abbreviate_path(&path);
        assert!(short.ends_with("[0]…"), "{short}");
        assert!(short.len() < path.len());
        assert_eq!(abbreviate_path("nodes[3].text"), "nodes[3].text");
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let error = Target::unknown("test", "g", &["f", "h"]);
        assert_eq!(error.to_string(), "unknown test function `g` (known: f, h)");
    }
}
