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

use serde::de::DeserializeOwned;
use serde::Serialize;

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
        CallError::InvalidInput {
            module: self.module,
            function: self.function,
            path: error.path().to_string(),
            message: error.into_inner().to_string(),
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
        let mut deserializer = serde_json::Deserializer::from_str(input);
        let value = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| target.invalid_input(error))?;
        deserializer
            .end()
            .map_err(|error| CallError::InvalidInput {
                module: target.module,
                function: target.function,
                path: ".".to_string(),
                message: error.to_string(),
            })?;
        Ok(value)
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
    fn an_unknown_name_lists_the_known_ones() {
        let error = Target::unknown("test", "g", &["f", "h"]);
        assert_eq!(error.to_string(), "unknown test function `g` (known: f, h)");
    }
}
