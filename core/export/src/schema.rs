//! A plugin's configuration checked against the JSON Schema the plugin declares, before the
//! plugin is opened: the operator reads every mistake at once, with where it is.

use crate::ExportError;

/// Checks `config` against `schema` (JSON Schema text; empty means anything goes).
pub fn validate(plugin: &str, schema: &str, config: &serde_json::Value) -> Result<(), ExportError> {
    if schema.trim().is_empty() {
        return Ok(());
    }
    let refuse = |message: String| ExportError::Refused {
        plugin: plugin.to_owned(),
        message,
    };
    let schema: serde_json::Value = serde_json::from_str(schema).map_err(|e| {
        refuse(format!(
            "its configuration schema is not JSON ({e}); report this to its publisher"
        ))
    })?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| {
        refuse(format!(
            "its configuration schema is not a valid JSON Schema ({e}); report this to its publisher"
        ))
    })?;
    let problems: Vec<String> = validator
        .iter_errors(config)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{}: {e}", at.trim_start_matches('/').replace('/', "."))
            }
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(ExportError::Config {
        plugin: plugin.to_owned(),
        problems,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SCHEMA: &str = r#"{"type": "object", "additionalProperties": false,
        "properties": {"level": {"type": "integer", "minimum": 1, "maximum": 22},
                       "codec": {"enum": ["zstd", "none"]}}}"#;

    #[test]
    fn every_mistake_is_named_with_its_place() {
        validate("p", SCHEMA, &json!({"level": 3, "codec": "zstd"})).expect("good");
        validate("p", "", &json!({"anything": 1})).expect("no schema");
        let e = validate(
            "p",
            SCHEMA,
            &json!({"level": 40, "codec": "lz4", "colour": 1}),
        )
        .expect_err("bad")
        .to_string();
        assert!(
            e.contains("level: 40 is greater than the maximum of 22"),
            "{e}"
        );
        assert!(e.contains("codec: "), "{e}");
        assert!(e.contains("colour"), "{e}");
        let e = validate("p", "{\"type\": 5}", &json!({})).expect_err("bad schema");
        assert!(e.to_string().contains("not a valid JSON Schema"), "{e}");
    }
}
