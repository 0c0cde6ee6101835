//! Query parameters shared by several endpoints: pagination, `tz`, `before`
//! and the `latest?query=` lookup.

use std::collections::HashMap;

use crate::store::Query;
use crate::store::search;

use super::error::ApiError;

/// Raw query parameters; the typed accessors below interpret them.
pub type Params = HashMap<String, String>;

/// `start` and `limit` (contract §2.0): non-numeric values fall back to the
/// defaults, negative ones are refused, and huge ones are clamped (slicing
/// never allocates by `limit`).
pub fn start_limit(params: &Params) -> Result<(usize, usize), ApiError> {
    Ok((number(params, "start", 0)?, number(params, "limit", 50)?))
}

fn number(params: &Params, name: &str, default: usize) -> Result<usize, ApiError> {
    let Some(value) = params.get(name).map(|v| v.trim()) else {
        return Ok(default);
    };
    let (negative, digits) = match value.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(default);
    }
    if negative && digits.bytes().any(|b| b != b'0') {
        return Err(ApiError::bad_request(format!(
            "{name} must not be negative"
        )));
    }
    Ok(digits.parse::<usize>().unwrap_or(usize::MAX))
}

/// A boolean parameter: `1`, `true` or `yes` (any case) turn it on.
pub fn flag(params: &Params, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// The `tz` parameter, if given.
pub fn tz(params: &Params) -> Option<&str> {
    params
        .get("tz")
        .map(String::as_str)
        .filter(|t| !t.is_empty())
}

/// The undocumented `before=<date>` filter, in Unix microseconds; an
/// unparseable date is ignored, as Mailpit ignores it.
pub fn before(params: &Params) -> Option<i64> {
    params
        .get("before")
        .and_then(|value| search::parse_date_param(value, tz(params)))
}

/// The `query` parameter, trimmed; blank gives Mailpit's 400.
pub fn required_query(params: &Params) -> Result<&str, ApiError> {
    params
        .get("query")
        .map(|q| q.trim())
        .filter(|q| !q.is_empty())
        .ok_or_else(|| ApiError::bad_request("Error: no search query"))
}

/// The search that `latest?query=` narrows to, if any.
pub fn latest_query(params: &Params) -> Option<Query> {
    params
        .get("query")
        .map(|q| q.trim())
        .filter(|q| !q.is_empty())
        .map(|q| Query::parse(q, tz(params)))
}

/// The IDs of a PUT or DELETE body without repeats (first occurrence
/// kept), so a client that lists an ID twice changes, counts and announces
/// that message once.
pub fn unique_ids(ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// Parameters from pairs, for tests.
#[cfg(test)]
pub fn from_pairs(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        from_pairs(pairs)
    }

    #[test]
    fn pagination_defaults_clamps_and_refuses_negatives() {
        assert_eq!(start_limit(&params(&[])).unwrap(), (0, 50));
        assert_eq!(
            start_limit(&params(&[("start", "x"), ("limit", "")])).unwrap(),
            (0, 50)
        );
        assert_eq!(
            start_limit(&params(&[("limit", "99999999999999999999999")])).unwrap(),
            (0, usize::MAX)
        );
        assert_eq!(start_limit(&params(&[("limit", "0")])).unwrap(), (0, 0));
        assert!(start_limit(&params(&[("start", "-1")])).is_err());
        assert!(start_limit(&params(&[("limit", "-5")])).is_err());
    }
}
