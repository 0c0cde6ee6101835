//! The caniemail.com support data, embedded in the binary (no network at
//! run time) and parsed once on first use.
//!
//! `caniemail.json` is trimmed from the data the npm package `caniemail`
//! ships (see `caniemail-LICENSE` next to it) by `scripts/caniemail-trim.py`:
//! the HTML, CSS and image features, their Markdown already rendered to
//! HTML, and the email clients of each platform.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::Deserialize;

const DATA: &str = include_str!("caniemail.json");

#[derive(Deserialize)]
pub struct Data {
    /// Family key (`gmail`) to its display name (`Gmail`).
    pub families: HashMap<String, String>,
    /// Platform key (`ios`) to its display name (`iOS`).
    pub platforms: HashMap<String, String>,
    /// Platform key to the display names of its clients, sorted.
    pub clients: BTreeMap<String, Vec<String>>,
    pub features: Vec<Feature>,
    #[serde(skip)]
    by_slug: HashMap<String, usize>,
}

/// A platform and its `(version, support)` answers.
type PlatformStats = (String, Vec<(String, String)>);

#[derive(Deserialize)]
pub struct Feature {
    pub slug: String,
    pub title: String,
    /// HTML.
    pub description: String,
    pub url: String,
    pub category: String,
    pub tags: Vec<String>,
    pub keywords: String,
    /// Note number to the note, HTML.
    pub notes: BTreeMap<String, String>,
    /// Family, then platform, then version to support, in the data's
    /// order. Support is `y`, `n`, or anything else (`a`, `u`, possibly with
    /// ` #N` note references).
    pub stats: Vec<(String, Vec<PlatformStats>)>,
}

impl Feature {
    /// Every `(family, platform, version, support)` tested.
    pub fn results(&self) -> impl Iterator<Item = (&str, &str, &str, &str)> {
        self.stats.iter().flat_map(|(family, platforms)| {
            platforms.iter().flat_map(move |(platform, versions)| {
                versions.iter().map(move |(version, support)| {
                    (
                        family.as_str(),
                        platform.as_str(),
                        version.as_str(),
                        support.as_str(),
                    )
                })
            })
        })
    }
}

impl Data {
    pub fn feature(&self, slug: &str) -> Option<&Feature> {
        self.by_slug.get(slug).map(|&i| &self.features[i])
    }

    pub fn has(&self, slug: &str) -> bool {
        self.by_slug.contains_key(slug)
    }
}

/// The data; an embedded file that does not parse is a build defect, which
/// the unit tests catch, so at run time it is only ever empty, never absent.
pub fn data() -> &'static Data {
    static DATA_PARSED: LazyLock<Data> = LazyLock::new(|| {
        let mut data: Data = serde_json::from_str(DATA).unwrap_or_else(|error| {
            tracing::error!(%error, "the embedded caniemail data does not parse");
            Data {
                families: HashMap::new(),
                platforms: HashMap::new(),
                clients: BTreeMap::new(),
                features: Vec::new(),
                by_slug: HashMap::new(),
            }
        });
        data.by_slug = data
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.slug.clone(), i))
            .collect();
        data
    });
    &DATA_PARSED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses_with_the_features_the_check_uses() {
        let parsed: Data = serde_json::from_str(DATA).expect("caniemail.json parses");
        assert!(parsed.features.len() > 250);
        let data = data();
        for slug in [
            "html-body",
            "html-style",
            "css-display-flex",
            "css-background-image",
            "css-at-media",
            "css-pseudo-class-hover",
            "image-webp",
        ] {
            let feature = data.feature(slug).unwrap_or_else(|| panic!("{slug}"));
            assert!(feature.results().count() > 10, "{slug}");
        }
        assert!(data.clients["ios"].contains(&"Apple Mail".to_string()));
        assert_eq!(data.families["gmail"], "Gmail");
    }
}
