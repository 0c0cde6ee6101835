//! Tags on PostgreSQL: each message's list in its row (as the API shows
//! it) and one row per tag in `message_tags`, which searches and counts.

use std::sync::Arc;

use super::feed::Change;
use super::{PgStore, commit, db_error, rows};
use crate::store::{Changed, MessageId, StoreError, tag_index};

impl PgStore {
    pub async fn set_tags(
        &self,
        ids: &[String],
        tags: &[String],
    ) -> Result<Vec<Changed>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let mut found = Vec::new();
        for id in ids {
            let Some(seq) = MessageId::parse_seq(id) else {
                continue;
            };
            let row = tx
                .query_opt(
                    "SELECT mailbox FROM messages WHERE seq = $1 AND id = $2 FOR UPDATE",
                    &[&(seq as i64), id],
                )
                .await
                .map_err(db_error)?;
            if let Some(row) = row {
                rows::write_tags(&*tx, seq as i64, tags)
                    .await
                    .map_err(db_error)?;
                found.push(Changed {
                    id: id.clone(),
                    mailbox: Arc::from(row.get::<_, String>(0)),
                });
            }
        }
        let notes: Vec<String> = found
            .iter()
            .map(|Changed { id, mailbox }| {
                self.feed.note(Change::Tags {
                    id: id.clone(),
                    mailbox: mailbox.to_string(),
                    tags: tags.to_vec(),
                })
            })
            .collect();
        commit(tx, &notes).await?;
        Ok(found)
    }

    pub async fn tag_counts(&self) -> Result<Vec<(String, usize)>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT seq, tag FROM message_tags", &[])
            .await
            .map_err(db_error)?;
        let mut index = tag_index::TagIndex::default();
        for row in rows {
            let (seq, tag): (i64, String) = (row.get(0), row.get(1));
            index.add(seq as u64, &[tag]);
        }
        Ok(index.counts())
    }

    pub async fn rewrite_tag(&self, from: &str, to: Option<&str>) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let tagged = tx
            .query(
                "SELECT seq, tags FROM messages WHERE seq IN
                 (SELECT seq FROM message_tags WHERE folded = $1) FOR UPDATE",
                &[&from.to_ascii_lowercase()],
            )
            .await
            .map_err(db_error)?;
        for row in tagged {
            let (seq, tags): (i64, String) = (row.get(0), row.get(1));
            let mut tags: Vec<String> = serde_json::from_str(&tags).unwrap_or_default();
            tags.retain(|t| !t.eq_ignore_ascii_case(from));
            tags.extend(to.map(str::to_string));
            crate::store::tags::sort(&mut tags);
            rows::write_tags(&*tx, seq, &tags).await.map_err(db_error)?;
        }
        commit(tx, &[self.feed.pruned()]).await
    }
}
