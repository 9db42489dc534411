//! Reading callers' JSON documents (partners, change sets, instances), with the two failure
//! kinds kept apart: a document that is not well-formed JSON is a syntax error, whatever serde
//! happened to notice first; well-formed JSON of the wrong shape is a shape error.

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::{Error, Result};

/// Parse a JSON object into `T`.
pub fn parse_object<T: DeserializeOwned>(text: &str) -> Result<T> {
    // serde's derived structs also accept a positional array; a partner is always an object.
    let first = text.trim_start_matches([' ', '\t', '\n', '\r']).chars().next();
    if first != Some('{') {
        well_formed(text)?;
        return Err(Error::JsonShape(format!("expected a JSON object, found {}", kind_of(first))));
    }
    serde_json::from_str(text).map_err(|e| match well_formed(text) {
        // A type error reported before the parser reached a syntax error further on.
        Err(syntax) => syntax,
        Ok(()) => Error::from_json(e),
    })
}

fn well_formed(text: &str) -> Result<()> {
    serde_json::from_str::<IgnoredAny>(text).map(drop).map_err(Error::from_json)
}

fn kind_of(first: Option<char>) -> &'static str {
    match first {
        Some('[') => "an array",
        Some('"') => "a string",
        Some('t' | 'f') => "a boolean",
        Some('n') => "null",
        Some(_) => "a number",
        None => "nothing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewPartner;

    fn code(text: &str) -> &'static str {
        match parse_object::<NewPartner>(text) {
            Ok(_) => "ok",
            Err(Error::JsonSyntax(_)) => "syntax",
            Err(Error::JsonShape(_)) => "shape",
            Err(e) => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn malformed_documents_are_syntax_errors_even_after_a_type_error() {
        assert_eq!(code(r#"{"Identity":42"#), "syntax");
        assert_eq!(code(r#"{"Colour":"red""#), "syntax");
        assert_eq!(code(r#"{"Identity":"a.com","Colour":1} }{"#), "syntax");
        assert_eq!(code(&"[".repeat(100_000)), "syntax");
        assert_eq!(code(&r#"{"a":"#.repeat(100_000)), "syntax");
    }

    #[test]
    fn well_formed_documents_of_the_wrong_shape_are_shape_errors() {
        assert_eq!(code(r#"["a.com",null,null,null,null,null,null,null,null,null,null]"#), "shape");
        assert_eq!(code(r#""a.com""#), "shape");
        assert_eq!(code(r#"{"Identity":42}"#), "shape");
        assert_eq!(code(r#"{"Identity":"a.com","ConnectionLimit":1e400}"#), "shape");
        assert_eq!(code(&format!(r#"{{"Identity":"a.com","ConnectionLimit":{}}}"#, "9".repeat(400))), "shape");
        assert_eq!(code(r#"{"Identity":"a.com","Identity":"b.com"}"#), "shape");
        assert_eq!(code(r#"{"Identity":"a.com"}"#), "ok");
    }
}
