//! Checks a JSON value against a schema of the OpenAPI document: the part
//! of OpenAPI 3.0's schema language the document uses (`$ref`, `allOf`,
//! `oneOf`, `type`, `nullable`, `enum`, `properties`, `required`,
//! `additionalProperties`, `items`, `format: date-time`). Stricter than
//! JSON Schema on one point, on purpose: an object may hold only the
//! properties its schema lists unless the schema has
//! `additionalProperties`, so a field the server sends but the document
//! leaves out is a failure.
//!
//! Hand-written rather than a crate: a full JSON Schema validator brings
//! dozens of dependencies (regex engines, URL and IDN handling, HTTP
//! fetching of remote references) into the one test binary, for a subset
//! this small.

use serde_json::{Map, Value};

/// Every way `value` departs from `schema`, each as `path: problem`.
pub fn violations(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(doc, schema, value, "$", &mut found);
    found
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        found.push(format!("{at}: the schema is not an object"));
        return;
    };
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        match doc.pointer(target.trim_start_matches('#')) {
            Some(resolved) => check(doc, resolved, value, at, found),
            None => found.push(format!("{at}: {target} does not resolve")),
        }
        return;
    }
    if value.is_null() {
        if !allows_null(schema) {
            found.push(format!("{at}: null where the schema does not allow it"));
        }
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(doc, part, value, at, found);
        }
    }
    if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = one_of
            .iter()
            .filter(|part| violations_at(doc, part, value, at).is_empty())
            .count();
        if matching != 1 {
            found.push(format!("{at}: {matching} of oneOf's schemas match {value}"));
        }
    }
    if let Some(wanted) = schema.get("type")
        && !has_type(wanted, value)
    {
        found.push(format!("{at}: {value} is not of type {wanted}"));
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        found.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && let Some(text) = value.as_str()
        && text.parse::<jiff::Timestamp>().is_err()
    {
        found.push(format!("{at}: {text:?} is not an RFC 3339 date-time"));
    }
    if let Some(object) = value.as_object() {
        check_object(doc, schema, object, at, found);
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"), found);
        }
    }
}

fn violations_at(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    check(doc, schema, value, at, &mut found);
    found
}

/// `nullable: true`, a type list naming `null`, or every `allOf` part
/// allowing it.
fn allows_null(schema: &Map<String, Value>) -> bool {
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        return true;
    }
    match schema.get("type") {
        Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
        _ => false,
    }
}

fn has_type(wanted: &Value, value: &Value) -> bool {
    match wanted {
        Value::String(name) => is_type(name, value),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .any(|name| is_type(name, value)),
        _ => false,
    }
}

fn is_type(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "null" => value.is_null(),
        _ => false,
    }
}

fn check_object(
    doc: &Value,
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    at: &str,
    found: &mut Vec<String>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let required = schema.get("required").and_then(Value::as_array);
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        if !object.contains_key(name) {
            found.push(format!("{at}: required property {name:?} is missing"));
        }
    }
    // Only a schema that describes an object's shape limits its keys:
    // `allOf` parts are checked on their own, and a bare `{"type":
    // "object"}` (the document itself) says nothing about its keys.
    if properties.is_none() && !schema.contains_key("additionalProperties") {
        return;
    }
    for (name, item) in object {
        let at = format!("{at}.{name}");
        match (
            properties.and_then(|p| p.get(name)),
            schema.get("additionalProperties"),
        ) {
            (Some(property), _) => check(doc, property, item, &at, found),
            (None, Some(Value::Bool(true))) => {}
            (None, Some(extra @ Value::Object(_))) => check(doc, extra, item, &at, found),
            (None, _) => found.push(format!("{at}: not in the schema")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn catches_each_kind_of_mismatch() {
        let doc = json!({"components": {"schemas": {
            "Thing": {"type": "object", "required": ["ID"], "properties": {
                "ID": {"type": "string"},
                "Count": {"type": "integer"},
                "When": {"type": "string", "format": "date-time", "nullable": true},
                "Kind": {"type": "string", "enum": ["a", "b"]},
                "Tags": {"type": "array", "items": {"type": "string"}},
                "Next": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/Thing"}]},
                "Map": {"type": "object", "additionalProperties": {"type": "integer"}}
            }}
        }}});
        let schema = json!({"$ref": "#/components/schemas/Thing"});
        let good = json!({"ID": "x", "Count": 2, "When": "2025-07-01T10:00:00Z", "Kind": "a",
            "Tags": ["t"], "Next": {"ID": "y", "Next": null}, "Map": {"k": 1}});
        assert_eq!(violations(&doc, &schema, &good), Vec::<String>::new());
        for (bad, problem) in [
            (json!({"Count": 1}), "required property \"ID\""),
            (json!({"ID": 1}), "$.ID: 1 is not of type"),
            (json!({"ID": "x", "Count": 1.5}), "$.Count"),
            (json!({"ID": "x", "When": "yesterday"}), "not an RFC 3339"),
            (json!({"ID": "x", "Kind": "c"}), "is not one of"),
            (json!({"ID": "x", "Tags": [1]}), "$.Tags[0]"),
            (
                json!({"ID": "x", "Next": {"Extra": 1}}),
                "$.Next.Extra: not in the schema",
            ),
            (json!({"ID": "x", "Map": {"k": "v"}}), "$.Map.k"),
            (json!({"ID": null}), "null where"),
            (json!([]), "is not of type \"object\""),
        ] {
            let found = violations(&doc, &schema, &bad);
            assert!(
                found.iter().any(|f| f.contains(problem)),
                "{bad}: wanted {problem:?}, found {found:?}"
            );
        }
    }
}
