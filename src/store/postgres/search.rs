//! Search on PostgreSQL, with exactly the memory engine's results.
//!
//! Each term of a [`Query`] becomes one SQL condition with the same meaning
//! as the memory engine's matcher: text filters test, with `position` on
//! bytes, columns holding the same normalised text the memory engine
//! normalises on the fly (a byte substring test, like the memory engine's:
//! no case folding, collation or wildcards); the other filters compare
//! numbers. Only the tables a query needs are joined.

use tokio_postgres::types::ToSql;

use crate::store::Query;
use crate::store::search::{Filter, Term};

type Param = Box<dyn ToSql + Sync + Send>;

/// A query as a `WHERE` clause over `messages m`, with its parameters and
/// the tables it needs.
pub(super) struct Condition {
    sql: String,
    values: Vec<Param>,
    needs_fields: bool,
    needs_text: bool,
}

impl Condition {
    pub fn of(query: &Query) -> Condition {
        let mut condition = Condition {
            sql: String::from("true"),
            values: Vec::new(),
            needs_fields: false,
            needs_text: false,
        };
        for term in query.terms() {
            let test = condition.term(term);
            condition.sql.push_str(" AND ");
            condition.sql.push_str(&test);
        }
        condition
    }

    fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }

    fn field(&mut self, column: &str, needle: &str) -> String {
        self.needs_fields = true;
        let needle = self.bind(needle.as_bytes().to_vec());
        format!("position({needle} IN f.{column}) > 0")
    }

    fn term(&mut self, term: &Term) -> String {
        let test = self.filter(&term.filter);
        if term.negated {
            format!("NOT ({test})")
        } else {
            format!("({test})")
        }
    }

    fn filter(&mut self, filter: &Filter) -> String {
        match filter {
            Filter::Text(finder) => {
                self.needs_text = true;
                let needle = self.bind(finder.needle().to_vec());
                format!("position({needle} IN t.text) > 0")
            }
            Filter::From(needle) => self.field("from_", needle),
            Filter::To(needle) => self.field("to_", needle),
            Filter::Cc(needle) => self.field("cc", needle),
            Filter::Bcc(needle) => self.field("bcc", needle),
            Filter::ReplyTo(needle) => self.field("reply_to", needle),
            Filter::Addressed(needle) => ["from_", "to_", "cc", "bcc", "reply_to"]
                .map(|column| self.field(column, needle))
                .join(" OR "),
            Filter::Recipient(needle) => ["to_", "cc", "bcc"]
                .map(|column| self.field(column, needle))
                .join(" OR "),
            Filter::Subject(needle) => self.field("subject", needle),
            Filter::MessageId(needle) => self.field("message_id", needle),
            Filter::Tag(name) => {
                let name = self.bind(name.to_ascii_lowercase());
                format!(
                    "EXISTS (SELECT 1 FROM message_tags g WHERE g.seq = m.seq AND g.folded = {name})"
                )
            }
            Filter::Read => "m.read".into(),
            Filter::Tagged => "m.tags <> '[]'".into(),
            Filter::HasAttachment => "m.attachments > 0".into(),
            Filter::HasInline => "m.inline > 0".into(),
            Filter::After(micros) => format!("m.created >= {}", self.bind(*micros)),
            Filter::Before(micros) => format!("m.created <= {}", self.bind(*micros)),
            Filter::Larger(size) => format!("m.size > {}", self.bind(clamp(*size))),
            Filter::Smaller(size) => format!("m.size < {}", self.bind(clamp(*size))),
            Filter::ArrivedAfter(seq) => format!("m.seq > {}", self.bind(clamp(*seq))),
            Filter::Mailboxes(names) => {
                let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                format!("m.mailbox = ANY({})", self.bind(names))
            }
        }
    }

    fn from(&self) -> &'static str {
        match (self.needs_fields, self.needs_text) {
            (true, true) => {
                "messages m JOIN message_fields f USING (seq) JOIN message_text t USING (seq)"
            }
            (true, false) => "messages m JOIN message_fields f USING (seq)",
            (false, true) => "messages m JOIN message_text t USING (seq)",
            (false, false) => "messages m",
        }
    }

    /// `SELECT m.seq, m.read` of every match, newest first; at most `limit`
    /// if given.
    pub fn matches_sql(&self, limit: Option<usize>) -> String {
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        format!(
            "SELECT m.seq, m.read FROM {} WHERE {} ORDER BY m.seq DESC{limit}",
            self.from(),
            self.sql
        )
    }

    pub fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
