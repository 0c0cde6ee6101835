//! Mailpit's HTML check: which HTML and CSS features a message's HTML uses,
//! and how well email clients support each, from caniemail.com's data.
//!
//! [`check`] answers Mailpit's `HTMLCheckResponse`. Scores work as Mailpit's:
//! a feature's score is the share of tested client versions that support it
//! (`y`), do not (`n`) or partly do (anything else); the message's total
//! takes, for partial and for no support, the worst feature weighted by how
//! many of the message's elements use it, and calls the rest supported.

mod css;
mod data;
mod detect;

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

/// `HTMLCheckResponse`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    pub warnings: Vec<Warning>,
    /// Platform key to the email clients tested on it (for the UI).
    pub platforms: &'static BTreeMap<String, Vec<String>>,
    pub total: Total,
}

/// `HTMLCheckTotal`: percentages weighted over the message's elements.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Total {
    pub tests: usize,
    pub nodes: usize,
    #[serde(serialize_with = "go_float")]
    pub supported: f32,
    #[serde(serialize_with = "go_float")]
    pub partial: f32,
    #[serde(serialize_with = "go_float")]
    pub unsupported: f32,
}

/// `HTMLCheckWarning`: one feature the message uses.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Warning {
    pub slug: String,
    pub title: String,
    pub description: String,
    #[serde(rename = "URL")]
    pub url: String,
    pub category: String,
    pub tags: Vec<String>,
    pub keywords: String,
    pub results: Vec<ClientResult>,
    pub notes_by_number: BTreeMap<String, String>,
    pub score: Score,
}

/// `HTMLCheckResult`: one client version's support.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientResult {
    pub name: String,
    pub platform: String,
    pub family: String,
    pub version: String,
    /// `yes`, `no` or `partial`.
    pub support: &'static str,
    pub note_number: String,
}

/// `HTMLCheckScore`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Score {
    pub found: usize,
    #[serde(serialize_with = "go_float")]
    pub supported: f32,
    #[serde(serialize_with = "go_float")]
    pub partial: f32,
    #[serde(serialize_with = "go_float")]
    pub unsupported: f32,
}

/// Checks an HTML body (the caller answers for messages without one).
/// Linear in the input, which is read up to [`detect::MAX_HTML_BYTES`].
pub fn check(html: &str) -> Report {
    let data = data::data();
    let findings = detect::scan(html, data);
    let mut warnings: Vec<Warning> = findings
        .found
        .iter()
        .filter_map(|(slug, &found)| warning(data.feature(slug)?, found, data))
        .collect();
    if findings.scripts > 0 {
        warnings.push(script_warning(findings.scripts));
    }
    // Mailpit divides by the node count; a body without elements counts as one.
    let nodes = findings.nodes.max(1) as f32;
    let weight = |w: &Warning, share: f32| (share * w.score.found as f32 / nodes).min(100.0);
    let partial = warnings
        .iter()
        .map(|w| weight(w, w.score.partial))
        .fold(0.0, f32::max);
    let unsupported = warnings
        .iter()
        .map(|w| weight(w, w.score.unsupported))
        .fold(0.0, f32::max);
    // Worst first; ties by slug, so the order is stable.
    let badness = |w: &Warning| (w.score.partial + w.score.unsupported) * w.score.found as f32;
    warnings.sort_by(|a, b| {
        badness(b)
            .total_cmp(&badness(a))
            .then_with(|| a.slug.cmp(&b.slug))
    });
    Report {
        warnings,
        platforms: &data.clients,
        total: Total {
            tests: tests_run(data),
            nodes: findings.nodes,
            supported: (100.0 - partial - unsupported).max(0.0),
            partial,
            unsupported,
        },
    }
}

/// The features checked: every CSS feature the data has (properties are
/// looked up by name), the HTML and image ones [`detect`] knows, and scripts.
fn tests_run(data: &data::Data) -> usize {
    let css = data
        .features
        .iter()
        .filter(|f| f.slug.starts_with("css-"))
        .count();
    let mut html: Vec<&str> = detect::html_slugs().filter(|s| data.has(s)).collect();
    html.sort_unstable();
    html.dedup();
    css + html.len() + 1
}

fn warning(feature: &data::Feature, found: usize, data: &data::Data) -> Option<Warning> {
    let results: Vec<ClientResult> = feature
        .results()
        .map(|(family, platform, version, support)| {
            client_result(family, platform, version, support, data)
        })
        .collect();
    if results.is_empty() {
        return None;
    }
    let share = |support: &str| {
        100.0 * results.iter().filter(|r| r.support == support).count() as f32
            / results.len() as f32
    };
    let score = Score {
        found,
        supported: share("yes"),
        partial: share("partial"),
        unsupported: share("no"),
    };
    Some(Warning {
        slug: feature.slug.clone(),
        title: feature.title.clone(),
        description: feature.description.clone(),
        url: feature.url.clone(),
        category: feature.category.clone(),
        tags: feature.tags.clone(),
        keywords: feature.keywords.clone(),
        results,
        notes_by_number: feature.notes.clone(),
        score,
    })
}

/// `y` and `n` are plain answers; anything else (`a` for partial, `u` for
/// unknown, or an answer with note references like `y #1`) is partial, its
/// last `#N` being the note to read.
fn client_result(
    family: &str,
    platform: &str,
    version: &str,
    support: &str,
    data: &data::Data,
) -> ClientResult {
    let nice = |names: &std::collections::HashMap<String, String>, key: &str| {
        names.get(key).cloned().unwrap_or_else(|| key.to_string())
    };
    let (support, note_number) = match support {
        "y" => ("yes", String::new()),
        "n" => ("no", String::new()),
        other => {
            let note = other
                .rsplit_once('#')
                .map(|(_, n)| n.trim())
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .unwrap_or_default();
            ("partial", note.to_string())
        }
    };
    ClientResult {
        name: format!(
            "{} {} ({version})",
            nice(&data.families, family),
            nice(&data.platforms, platform)
        ),
        platform: platform.to_string(),
        family: family.to_string(),
        version: version.to_string(),
        support,
        note_number,
    }
}

/// Scripts are not a caniemail feature: no client runs them.
fn script_warning(found: usize) -> Warning {
    Warning {
        slug: "html-script".into(),
        title: "<script> element".into(),
        description: "JavaScript is not supported in any email client.".into(),
        url: String::new(),
        category: "html".into(),
        tags: Vec::new(),
        keywords: String::new(),
        results: Vec::new(),
        notes_by_number: BTreeMap::new(),
        score: Score {
            found,
            supported: 0.0,
            partial: 0.0,
            unsupported: 100.0,
        },
    }
}

/// Go encodes a whole `float32` without a fraction (`100`, not `100.0`).
fn go_float<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 1e9 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f32(*value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flexbox_and_background_images_lower_the_score() {
        let report = check(
            "<html><head><style>.row{display:flex}.hero{background-image:url(a.png)}</style></head>\
             <body><div class=row><div class=hero>x</div></div><script>1</script></body></html>",
        );
        let slugs: Vec<&str> = report.warnings.iter().map(|w| w.slug.as_str()).collect();
        for slug in [
            "css-display-flex",
            "css-background-image",
            "html-style",
            "html-body",
            "html-script",
        ] {
            assert!(slugs.contains(&slug), "{slug} in {slugs:?}");
        }
        assert!(report.total.supported < 100.0 && report.total.supported >= 0.0);
        assert!(report.total.unsupported > 0.0);
        assert_eq!(report.total.nodes, 5, "style, body, two divs, script");
        let flex = report
            .warnings
            .iter()
            .find(|w| w.slug == "css-display-flex")
            .unwrap();
        let sum = flex.score.supported + flex.score.partial + flex.score.unsupported;
        assert!((sum - 100.0).abs() < 0.01, "{sum}");
        assert!(
            flex.results
                .iter()
                .any(|r| r.name.starts_with("Gmail ") && r.name.ends_with(')'))
        );
        // Worst first.
        let bad = |w: &Warning| (w.score.partial + w.score.unsupported) * w.score.found as f32;
        assert!(report.warnings.windows(2).all(|p| bad(&p[0]) >= bad(&p[1])));
        assert!(report.total.tests > 150);
    }

    #[test]
    fn plain_html_is_fully_supported() {
        let report = check("<p>Hello</p>");
        assert!(report.warnings.is_empty());
        assert_eq!(report.total.supported, 100.0);
        let json = serde_json::to_string(&report.total).unwrap();
        assert!(json.contains("\"Supported\":100,"), "{json}");
        assert!(!report.platforms.is_empty());
    }

    /// Random soups of the characters the scanners branch on never panic
    /// and always score within 0..=100.
    #[test]
    fn hostile_input_is_scored_without_panicking() {
        const PIECES: [&str; 24] = [
            "<",
            ">",
            "</",
            "<style>",
            "</style>",
            "<p style='",
            "'",
            "\"",
            "{",
            "}",
            ";",
            ":",
            "::",
            "@media",
            "(",
            ")",
            "/*",
            "*/",
            "!important",
            "display:flex",
            "é",
            "--x",
            "\\",
            " ",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..500 {
            let len = (next() % 200) as usize;
            let html: String = (0..len).map(|_| PIECES[(next() % 24) as usize]).collect();
            let report = check(&html);
            let total = &report.total;
            assert!((0.0..=100.0).contains(&total.supported), "{html}");
            assert!(total.partial >= 0.0 && total.unsupported >= 0.0, "{html}");
        }
    }

    #[test]
    fn notes_numbers_come_from_partial_answers() {
        let data = data::data();
        let r = client_result("gmail", "ios", "2024", "a #1 #3", data);
        assert_eq!((r.support, r.note_number.as_str()), ("partial", "3"));
        assert_eq!(r.name, "Gmail iOS (2024)");
        assert_eq!(
            client_result("gmail", "ios", "1", "u", data).support,
            "partial"
        );
    }
}
