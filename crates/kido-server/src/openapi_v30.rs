//! utoipa writes OpenAPI 3.1; Logto's document, and the validators its clients run, are
//! OpenAPI 3.0. This rewrites the 3.1 constructs Kido's document uses into their 3.0
//! forms, once, when the document is built: `type: [X, "null"]` → `type: X, nullable`;
//! `oneOf`/`anyOf` with a `null` branch → the rest, `nullable`; `const` → `enum`; schema
//! `examples` → `example`; numeric `exclusiveMinimum`/`Maximum` → the 3.0 boolean form;
//! a `$ref` with siblings → `allOf: [$ref]`; 3.1-only keys (`$schema`, `$id`, a license's
//! `identifier`…) dropped; `customData` objects open (`additionalProperties: true`).

use serde_json::{Map, Value, json};

pub const VERSION: &str = "3.0.3";

/// Keys only JSON Schema 2020-12 (OpenAPI 3.1) knows; 3.0 refuses them in a schema.
const DROPPED_SCHEMA_KEYS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "contentEncoding",
    "contentMediaType",
    "unevaluatedProperties",
    // 3.0 has no `propertyNames`; utoipa writes `{type: string}` for map keys, which JSON keys are.
    "propertyNames",
];

/// Rewrites a 3.1 document in place into 3.0.
pub fn downgrade(doc: &mut Value) {
    let Some(root) = doc.as_object_mut() else { return };
    root.insert("openapi".into(), VERSION.into());
    root.remove("jsonSchemaDialect");
    root.remove("webhooks");
    if let Some(license) = root.get_mut("info").and_then(|i| i.get_mut("license")).and_then(Value::as_object_mut) {
        license.remove("identifier");
    }
    if let Some(schemas) = root.get_mut("components").and_then(|c| c.get_mut("schemas")).and_then(Value::as_object_mut)
    {
        schemas.values_mut().for_each(schema);
    }
    if let Some(paths) = root.get_mut("paths") {
        schemas_in(paths);
    }
}

/// Finds the schemas outside `components` (parameters, bodies, responses, headers).
fn schemas_in(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "schema" { schema(v) } else { schemas_in(v) }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(schemas_in),
        _ => {}
    }
}

/// One schema object, then its subschemas.
fn schema(value: &mut Value) {
    let Some(map) = value.as_object_mut() else { return };
    for key in DROPPED_SCHEMA_KEYS {
        map.remove(*key);
    }
    nullable_type(map);
    for key in ["oneOf", "anyOf"] {
        nullable_branch(map, key);
    }
    if let Some(constant) = map.remove("const") {
        map.insert("enum".into(), json!([constant]));
    }
    if let Some(Value::Array(mut examples)) = map.remove("examples")
        && !examples.is_empty()
    {
        map.entry("example").or_insert_with(|| examples.swap_remove(0));
    }
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(n) = map.get(exclusive).filter(|v| v.is_number()).cloned() {
            map.insert(bound.into(), n);
            map.insert(exclusive.into(), true.into());
        }
    }
    if map.contains_key("$ref") && map.len() > 1 {
        let reference = map.remove("$ref").unwrap_or_default();
        map.insert("allOf".into(), json!([{ "$ref": reference }]));
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(schema);
        if let Some(custom) = properties.get_mut("customData").and_then(Value::as_object_mut) {
            open_object(custom);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(sub) = map.get_mut(key) {
            schema(sub);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(subs)) = map.get_mut(key) {
            subs.iter_mut().for_each(schema);
        }
    }
}

/// `type: [X, "null"]` → `type: X, nullable: true`; several types → `anyOf` of each.
fn nullable_type(map: &mut Map<String, Value>) {
    let types = match map.get("type") {
        Some(Value::Array(types)) => types.clone(),
        Some(Value::String(t)) if t == "null" => {
            map.remove("type");
            map.insert("nullable".into(), true.into());
            return;
        }
        _ => return,
    };
    let null = Value::from("null");
    if types.contains(&null) {
        map.insert("nullable".into(), true.into());
    }
    let rest: Vec<Value> = types.into_iter().filter(|t| *t != null).collect();
    match rest.as_slice() {
        [] => {
            map.remove("type");
        }
        [one] => {
            map.insert("type".into(), one.clone());
        }
        several => {
            map.remove("type");
            let branches: Vec<Value> = several.iter().map(|t| json!({ "type": t })).collect();
            map.insert("anyOf".into(), Value::Array(branches));
        }
    }
}

/// `oneOf: [S, {type: "null"}]` → `S` (as `allOf: [S]` when it is a reference), `nullable`.
fn nullable_branch(map: &mut Map<String, Value>, key: &str) {
    let Some(Value::Array(branches)) = map.get_mut(key) else { return };
    let is_null = |b: &Value| b.get("type").is_some_and(|t| t == "null") && b.as_object().is_some_and(|o| o.len() == 1);
    if !branches.iter().any(is_null) {
        return;
    }
    branches.retain(|b| !is_null(b));
    map.insert("nullable".into(), true.into());
    let Some(Value::Array(branches)) = map.get(key) else { return };
    if let [only] = branches.as_slice() {
        let only = only.clone();
        map.remove(key);
        match only {
            Value::Object(o) if o.contains_key("$ref") => {
                map.insert("allOf".into(), json!([o]));
            }
            Value::Object(o) => {
                for (k, v) in o {
                    map.entry(k).or_insert(v);
                }
            }
            _ => {}
        }
    } else if branches.is_empty() {
        map.remove(key);
    }
}

/// `customData` is any JSON object, as Logto describes it.
fn open_object(map: &mut Map<String, Value>) {
    map.insert("type".into(), "object".into());
    map.insert("additionalProperties".into(), true.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn downgraded(schema_31: Value) -> Value {
        let mut doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1", "license":
            {"name": "MPL-2.0", "identifier": "MPL-2.0"}}, "paths": {}, "components": {"schemas": {"S": schema_31}}});
        downgrade(&mut doc);
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(doc["info"]["license"], json!({"name": "MPL-2.0"}));
        doc["components"]["schemas"]["S"].take()
    }

    #[test]
    fn nullable_types_and_branches() {
        assert_eq!(downgraded(json!({"type": ["string", "null"]})), json!({"type": "string", "nullable": true}));
        assert_eq!(
            downgraded(json!({"type": ["string", "integer"]})),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
        assert_eq!(
            downgraded(json!({"oneOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]})),
            json!({"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": true})
        );
        assert_eq!(
            downgraded(json!({"oneOf": [{"type": "string", "format": "uri"}, {"type": "null"}], "description": "d"})),
            json!({"type": "string", "format": "uri", "nullable": true, "description": "d"})
        );
        assert_eq!(
            downgraded(json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]})),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
        );
    }

    #[test]
    fn keywords_and_nesting() {
        let s = downgraded(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "kind": {"const": "a"},
                "n": {"type": "integer", "exclusiveMinimum": 0, "examples": [5, 6]},
                "list": {"type": "array", "items": {"type": ["boolean", "null"]}},
                "r": {"$ref": "#/components/schemas/X", "description": "d"},
                "customData": {"type": ["object", "null"]},
                "map": {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
            }
        }));
        assert_eq!(s.get("$schema"), None);
        let p = &s["properties"];
        assert_eq!(p["kind"], json!({"enum": ["a"]}));
        assert_eq!(p["n"], json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "example": 5}));
        assert_eq!(p["list"]["items"], json!({"type": "boolean", "nullable": true}));
        assert_eq!(p["r"], json!({"allOf": [{"$ref": "#/components/schemas/X"}], "description": "d"}));
        assert_eq!(p["customData"], json!({"type": "object", "additionalProperties": true, "nullable": true}));
        assert_eq!(p["map"]["additionalProperties"], json!({"type": "string", "nullable": true}));
    }

    #[test]
    fn schemas_in_operations() {
        let mut doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"patch": {
            "parameters": [{"name": "q", "in": "query", "schema": {"type": ["string", "null"]}}],
            "requestBody": {"content": {"application/json": {"schema":
                {"oneOf": [{"$ref": "#/components/schemas/U"}, {"type": "null"}]}}}},
            "responses": {"200": {"description": "ok"}}}}}});
        downgrade(&mut doc);
        let op = &doc["paths"]["/x"]["patch"];
        assert_eq!(op["parameters"][0]["schema"], json!({"type": "string", "nullable": true}));
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"],
            json!({"allOf": [{"$ref": "#/components/schemas/U"}], "nullable": true})
        );
        assert_eq!(op["responses"]["200"], json!({"description": "ok"}));
    }
}
