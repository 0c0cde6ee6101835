//! `/api/mailcatch/v1/message/{ID}/links` and `/codes` over real SMTP and
//! HTTP: realistic messages from `tests/fixtures/extract/` (sign-up,
//! password reset, one-time codes in five languages, a newsletter, HTML-only
//! and text-only), the exact links and the best code of each, `latest` and
//! `latest?query=`, 404s, and that reading them leaves messages unread.

use crate::common;

use std::time::Duration;

use common::smtp::RawClient;
use mailcatch::Running;
use reqwest::StatusCode;
use serde_json::Value;

/// Delivers a fixture byte for byte (line ends made CRLF, dots stuffed)
/// through the SMTP port, returning the ID the server queued it under.
async fn deliver(running: &Running, fixture: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/extract/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut data = raw.replace("\r\n", "\n").replace('\n', "\r\n");
    if !data.ends_with("\r\n") {
        data.push_str("\r\n");
    }
    let data = data.replace("\r\n.", "\r\n..");
    let mut client = RawClient::connect(running.smtp_addr).await;
    client
        .send("EHLO extract.test\r\nMAIL FROM:<sender@example.com>\r\nRCPT TO:<reader@example.com>\r\nDATA\r\n")
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 250, 354]);
    client.send(format!("{data}.\r\n")).await;
    let reply = client.reply().await;
    assert_eq!(reply.code, 250, "{fixture}: {:?}", reply.lines);
    let id = reply.lines[0].rsplit(' ').next().unwrap().to_string();
    assert_eq!(client.command("QUIT").await, 221);
    id
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(running: &Running) -> Api {
        Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            base: common::base_url(running),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    async fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// `(URL, Text, Part)` of every link of `id` (an ID, `latest` or
    /// `latest?query=...`).
    async fn links(&self, id: &str) -> Vec<(String, String, String)> {
        let body = self.json(&endpoint(id, "links")).await;
        body["Links"]
            .as_array()
            .expect("Links is an array")
            .iter()
            .map(|link| {
                let field = |name: &str| link[name].as_str().expect(name).to_string();
                (field("URL"), field("Text"), field("Part"))
            })
            .collect()
    }

    /// `(Code, Context)` of every code of `id`, best first.
    async fn codes(&self, id: &str) -> Vec<(String, String)> {
        let body = self.json(&endpoint(id, "codes")).await;
        body["Codes"]
            .as_array()
            .expect("Codes is an array")
            .iter()
            .map(|code| {
                let field = |name: &str| code[name].as_str().expect(name).to_string();
                (field("Code"), field("Context"))
            })
            .collect()
    }
}

/// The path of `/links` or `/codes` for `id`, which may be `latest?query=...`.
fn endpoint(id: &str, what: &str) -> String {
    match id.split_once('?') {
        Some((id, query)) => format!("/api/mailcatch/v1/message/{id}/{what}?{query}"),
        None => format!("/api/mailcatch/v1/message/{id}/{what}"),
    }
}

/// What each fixture must give: its links as `(URL, Text, Part)` and its
/// best code with that code's context (`None`: no code at all).
struct Expected {
    fixture: &'static str,
    links: &'static [(&'static str, &'static str, &'static str)],
    best: Option<(&'static str, &'static str)>,
}

const EXPECTED: &[Expected] = &[
    Expected {
        fixture: "signup-confirmation.eml",
        links: &[
            (
                "https://acme.example/?utm_source=email&utm_campaign=signup",
                "Acme Cloud",
                "html",
            ),
            (
                "https://acme.example/confirm?token=7f3a9c2e41&email=jane%40example.com",
                "Confirm my email",
                "html",
            ),
            (
                "mailto:support@acme.example?subject=Sign-up%20help",
                "Contact support",
                "html",
            ),
            (
                "https://help.acme.example/getting-started",
                "getting started guide",
                "html",
            ),
            (
                "https://acme.example/unsubscribe?u=8812",
                "Unsubscribe",
                "html",
            ),
            ("https://acme.example/app", "Get the mobile app", "text"),
        ],
        best: None,
    },
    Expected {
        fixture: "password-reset.eml",
        links: &[
            (
                "https://accounts.example.org/reset?token=Zt9QmW4x2KpL&uid=42&lang=en",
                "Choose a new password",
                "html",
            ),
            (
                "https://accounts.example.org/security?ref=reset",
                "Secure your account",
                "html",
            ),
            ("https://example.org/privacy", "Privacy policy", "html"),
        ],
        best: None,
    },
    Expected {
        fixture: "otp-en.eml",
        links: &[
            (
                "https://acme.example/signin?step=otp",
                "sign-in page",
                "html",
            ),
            (
                "https://acme.example/security/reset",
                "Reset your password",
                "html",
            ),
            ("tel:+15550102030", "+1 (555) 010-2030", "html"),
        ],
        best: Some(("482913", "Your Acme verification code is: 482913")),
    },
    Expected {
        fixture: "otp-de.eml",
        links: &[(
            "https://www.beispielbank.example/sperren",
            "Sie haben sich nicht angemeldet? Sperren Sie Ihren Zugang unter",
            "text",
        )],
        best: Some((
            "739215",
            "Ihr Bestätigungscode für die Anmeldung lautet: 739215",
        )),
    },
    Expected {
        fixture: "otp-fr.eml",
        links: &[(
            "https://aide.exemple.fr/contact?lang=fr&src=otp",
            "Contactez-nous",
            "html",
        )],
        best: Some(("583107", "Voici votre code de vérification : 583 107")),
    },
    Expected {
        fixture: "otp-es.eml",
        links: &[
            (
                "https://tienda.ejemplo.es/pedido/2025-0042?ver=web&lang=es",
                "Ver pedido",
                "html",
            ),
            (
                "https://tienda.ejemplo.es/seguridad",
                "Centro de seguridad",
                "html",
            ),
        ],
        best: Some(("K7P2QX", "Tu código de seguridad es: K7P2QX")),
    },
    Expected {
        fixture: "magic-link-pt.eml",
        links: &[
            (
                "https://app.exemplo.com.br/entrar?c=Zx81Kp",
                "Ou clique no link para entrar",
                "text",
            ),
            ("https://exemplo.com.br", "Equipe Exemplo", "text"),
        ],
        best: Some(("4821", "Seu código de acesso é 4821.")),
    },
    Expected {
        fixture: "verificatie-nl.eml",
        links: &[(
            "https://www.voorbeeld.example.nl/veiligheid",
            "onze veiligheidspagina",
            "html",
        )],
        best: Some((
            "66120934",
            "Uw eenmalige inlogcode is 66120934. De code is 5 minuten geldig.",
        )),
    },
    Expected {
        fixture: "newsletter.eml",
        links: &[
            (
                "https://news.example.com/issues/42?utm_source=newsletter&utm_medium=email",
                "View in your browser",
                "html",
            ),
            ("https://news.example.com/", "The Weekly Example", "html"),
            ("https://news.example.com/articles", "Articles", "html"),
            ("https://news.example.com/events", "Events", "html"),
            ("https://news.example.com/jobs", "Jobs", "html"),
            (
                "https://news.example.com/articles/spring-releases?utm_source=newsletter",
                "Spring releases are here",
                "html",
            ),
            (
                "https://news.example.com/articles/builds",
                "How we cut our build times in half",
                "html",
            ),
            (
                "https://events.example.com/lisbon-2025?ref=nl42",
                "Meetup in Lisbon, 27 March",
                "html",
            ),
            (
                "https://events.example.com/berlin-2025?ref=nl42&lang=en",
                "Meetup in Berlin",
                "html",
            ),
            ("mailto:editor@news.example.com", "the editors", "html"),
            ("tel:+441632960000", "+44 1632 960000", "html"),
            ("https://social.example/@weeklyexample", "Mastodon", "html"),
            ("https://video.example/c/weeklyexample", "Video", "html"),
            (
                "https://news.example.com/preferences?s=r7Qx",
                "Preferences",
                "html",
            ),
            (
                "https://news.example.com/unsubscribe?s=r7Qx",
                "Unsubscribe",
                "html",
            ),
            (
                "https://podcast.news.example.com/ep/42",
                "Listen to the podcast",
                "text",
            ),
        ],
        best: None,
    },
    Expected {
        fixture: "short-no-keyword.eml",
        links: &[],
        best: Some(("551902", "Hi Sam, 551902")),
    },
];

#[tokio::test]
async fn links_and_codes_of_realistic_messages() {
    let running = common::start().await;
    let api = Api::new(&running);
    let mut ids = Vec::new();
    for expected in EXPECTED {
        let id = deliver(&running, expected.fixture).await;
        let fixture = expected.fixture;

        let links = api.links(&id).await;
        let want: Vec<(String, String, String)> = expected
            .links
            .iter()
            .map(|(u, t, p)| (u.to_string(), t.to_string(), p.to_string()))
            .collect();
        assert_eq!(links, want, "{fixture}: links");

        let codes = api.codes(&id).await;
        match expected.best {
            Some((code, context)) => {
                assert_eq!(
                    codes.first(),
                    Some(&(code.to_string(), context.to_string())),
                    "{fixture}: best code of {codes:?}"
                );
            }
            None => assert_eq!(codes, [], "{fixture}: codes"),
        }
        ids.push(id);
    }

    // Asking again answers the same (the parsed detail is cached).
    let again = api.codes(&ids[2]).await;
    assert_eq!(again[0].0, "482913");

    // Nothing was marked read.
    let list = api.json("/api/v1/messages?limit=100").await;
    assert_eq!(list["messages_count"], EXPECTED.len());
    assert_eq!(list["unread"], EXPECTED.len(), "{list}");
    for message in list["messages"].as_array().unwrap() {
        assert_eq!(message["Read"], false, "{}", message["Subject"]);
    }
    running.shutdown().await;
}

#[tokio::test]
async fn latest_query_and_missing_messages() {
    let running = common::start().await;
    let api = Api::new(&running);

    // Before any mail: `latest` has nothing to find.
    for path in ["links", "codes"] {
        let (status, body) = api
            .get(&format!("/api/mailcatch/v1/message/latest/{path}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, "Message not found");
    }

    deliver(&running, "otp-de.eml").await;
    let newest = deliver(&running, "signup-confirmation.eml").await;

    // `latest` is the newest message.
    assert_eq!(api.links("latest").await, api.links(&newest).await);
    assert_eq!(api.codes("latest").await, []);

    // `latest?query=` the newest matching message.
    let query = "latest?query=subject:Anmeldung";
    assert_eq!(api.codes(query).await[0].0, "739215");
    assert_eq!(
        api.links(query).await[0].0,
        "https://www.beispielbank.example/sperren"
    );
    for path in ["links", "codes"] {
        let (status, body) = api
            .get(&endpoint("latest?query=subject:nowhere", path))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, "Message not found");

        // An unknown ID is the router's 404, like the other per-message
        // endpoints.
        let (status, body) = api
            .get(&format!(
                "/api/mailcatch/v1/message/AAAAAAAAAAAAAAAAAAAAAA/{path}"
            ))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, "404 page not found");
    }

    // Still unread, both of them; opening one the Mailpit way does mark it.
    let list = api.json("/api/v1/messages").await;
    assert_eq!(list["unread"], 2, "{list}");
    api.json(&format!("/api/v1/message/{newest}")).await;
    let list = api.json("/api/v1/messages").await;
    assert_eq!(list["unread"], 1, "{list}");
    running.shutdown().await;
}
