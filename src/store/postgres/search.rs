//! Search on PostgreSQL, with exactly the memory engine's results.
//!
//! Each term of a [`Query`] becomes one SQL condition with the same meaning
//! as the memory engine's matcher: text filters test, with `position` on
//! bytes, columns holding the same normalised text the memory engine
//! normalises on the fly (a byte substring test, like the memory engine's:
//! no case folding, collation or wildcards); free text is tested with an
//! escaped `LIKE`, which for valid UTF-8 is the same substring test and
//! can use the trigram index; the other filters compare numbers. Only the
//! tables a query needs are joined.

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
    /// Whether a term tests a column of `messages` (not only free text or
    /// fields).
    needs_messages: bool,
}

impl Condition {
    pub fn of(query: &Query) -> Condition {
        let mut condition = Condition {
            sql: String::from("true"),
            values: Vec::new(),
            needs_fields: false,
            needs_text: false,
            needs_messages: false,
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

    /// A free-text test as `LIKE` on `plain`, which the trigram index
    /// serves, checked on the exact bytes where `plain` differs from them
    /// (texts holding NUL). A needle `LIKE` cannot take (one with NUL, or
    /// not UTF-8) is tested on the bytes alone.
    fn free_text(&mut self, needle: &[u8]) -> String {
        match std::str::from_utf8(needle) {
            Ok(needle) if !needle.contains('\0') => {
                let pattern = self.bind(like_pattern(needle));
                let bytes = self.bind(needle.as_bytes().to_vec());
                format!(
                    "t.plain LIKE {pattern} AND (t.text IS NULL OR position({bytes} IN t.text) > 0)"
                )
            }
            _ => {
                let bytes = self.bind(needle.to_vec());
                format!("position({bytes} IN coalesce(t.text, convert_to(t.plain, 'UTF8'))) > 0")
            }
        }
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
        self.needs_messages |= !matches!(
            filter,
            Filter::Text(_)
                | Filter::From(_)
                | Filter::To(_)
                | Filter::Cc(_)
                | Filter::Bcc(_)
                | Filter::ReplyTo(_)
                | Filter::Addressed(_)
                | Filter::Recipient(_)
                | Filter::Subject(_)
                | Filter::MessageId(_)
        );
        match filter {
            Filter::Text(finder) => {
                self.needs_text = true;
                self.free_text(finder.needle())
            }
            Filter::From(needle) => self.field("from_", needle.text()),
            Filter::To(needle) => self.field("to_", needle.text()),
            Filter::Cc(needle) => self.field("cc", needle.text()),
            Filter::Bcc(needle) => self.field("bcc", needle.text()),
            Filter::ReplyTo(needle) => self.field("reply_to", needle.text()),
            Filter::Addressed(needle) => ["from_", "to_", "cc", "bcc", "reply_to"]
                .map(|column| self.field(column, needle.text()))
                .join(" OR "),
            Filter::Recipient(needle) => ["to_", "cc", "bcc"]
                .map(|column| self.field(column, needle.text()))
                .join(" OR "),
            Filter::Subject(needle) => self.field("subject", needle.text()),
            Filter::MessageId(needle) => self.field("message_id", needle.text()),
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

    /// The newest matches from `start` on, at most `limit`, each row with
    /// `seq`, then the number of matches and of unread ones (counted in the
    /// same pass; no rows when `start` is past the last match).
    pub fn page_sql(&self, start: usize, limit: usize) -> String {
        let counted = self.counted();
        format!(
            "SELECT {}, count(*) OVER (), {} FROM {} WHERE {} ORDER BY {} DESC LIMIT {} OFFSET {}",
            counted.seq,
            counted.unread_window,
            counted.from,
            self.sql,
            counted.order,
            clamp(limit as u64),
            clamp(start as u64)
        )
    }

    /// The number of matches and of unread ones.
    pub fn count_sql(&self) -> String {
        let counted = self.counted();
        format!(
            "SELECT count(*), {} FROM {} WHERE {}",
            counted.unread, counted.from, self.sql
        )
    }

    /// How [`Condition::page_sql`] and [`Condition::count_sql`] read the
    /// matches. Counting reads every match, so an index order does not
    /// help: with free text the planner is kept from walking the messages
    /// newest first (testing every text on the way) by ordering on
    /// `seq + 0`, and it takes the trigram index and sorts the matches
    /// instead. A query of free text alone needs no `messages` row: its
    /// unread matches are all matches but the read ones, which a partial
    /// index finds (few, usually) without reading every matching message.
    fn counted(&self) -> Counted {
        let text_only = self.needs_text && !self.needs_fields && !self.needs_messages;
        let (from, seq, unread, unread_window) = if text_only {
            (
                "message_text t LEFT JOIN messages r ON r.seq = t.seq AND r.read",
                "t.seq",
                "count(*) - count(r.seq)",
                "count(*) OVER () - count(r.seq) OVER ()",
            )
        } else {
            (
                self.from(),
                "m.seq",
                "count(*) FILTER (WHERE NOT m.read)",
                "count(*) FILTER (WHERE NOT m.read) OVER ()",
            )
        };
        let order = if self.needs_text {
            format!("{seq} + 0")
        } else {
            seq.to_string()
        };
        Counted {
            from,
            seq,
            unread,
            unread_window,
            order,
        }
    }

    pub fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The parts of a counting query (see [`Condition::counted`]).
struct Counted {
    from: &'static str,
    seq: &'static str,
    unread: &'static str,
    unread_window: &'static str,
    order: String,
}

/// `needle` as a `LIKE` pattern matching any text that contains it.
fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
