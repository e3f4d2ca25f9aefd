//! The streaming reader of a deposit: [`Scanner`] walks `<rde:contents>`
//! and hands out one object at a time as a tree of [`Node`]s, with the line
//! it starts on and what the deposit's header says about it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::super::RDE;
use crate::data::DataError;
use crate::model::Timestamp;

/// One element of an object read from a deposit.
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    pub(super) ns: String,
    pub(super) name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    pub(super) fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    pub(super) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn text(&self) -> &str {
        self.text
            .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
    }

    pub(super) fn all<'n>(
        &'n self,
        ns: &'n str,
        name: &'n str,
    ) -> impl Iterator<Item = &'n Node> + 'n {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    pub(super) fn child(&self, ns: &str, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub(super) fn opt_text(&self, ns: &str, name: &str) -> Option<String> {
        self.child(ns, name).map(|c| c.text().to_owned())
    }

    pub(super) fn required(&self, ns: &str, name: &str) -> Result<&Node, String> {
        self.child(ns, name)
            .ok_or_else(|| format!("<{name}> is missing"))
    }

    pub(super) fn req_text(&self, ns: &str, name: &str) -> Result<String, String> {
        self.required(ns, name).map(|c| c.text().to_owned())
    }

    pub(super) fn req_date(&self, ns: &str, name: &str) -> Result<Timestamp, String> {
        parse_date(name, self.required(ns, name)?.text())
    }

    pub(super) fn opt_date(&self, ns: &str, name: &str) -> Result<Option<Timestamp>, String> {
        self.child(ns, name)
            .map(|c| parse_date(name, c.text()))
            .transpose()
    }
}

pub(super) fn parse_date(name: &str, text: &str) -> Result<Timestamp, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("<{name}>: {text:?} is not a dateTime"))
}

/// A buffered reader that counts the lines the XML reader has consumed.
struct Lines<R> {
    inner: BufReader<R>,
    newlines: u64,
}

impl<R: std::io::Read> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += count_newlines(&buf[..n]);
        Ok(n)
    }
}

impl<R: std::io::Read> BufRead for Lines<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        let buffered = self.inner.buffer();
        let amt = amt.min(buffered.len());
        self.newlines += count_newlines(&buffered[..amt]);
        self.inner.consume(amt);
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.iter().filter(|b| **b == b'\n').count()).unwrap_or(0)
}

/// What a deposit says about itself.
#[derive(Debug, Clone, Default)]
pub(super) struct Head {
    pub(super) kind: Option<String>,
    pub(super) watermark: Option<Timestamp>,
}

/// One object of `<rde:contents>`, with the line it starts on.
pub(super) enum Read {
    /// Read in full.
    Object(u64, Node),
    /// Passed over: its namespace and local name.
    Skipped(u64, String, String),
}

/// Reads a deposit's objects one at a time.
pub(super) struct Scanner {
    path: PathBuf,
    reader: NsReader<Lines<File>>,
    outer: Vec<(String, String)>,
    stack: Vec<Node>,
    skipping: Option<(usize, String, String)>,
    line: u64,
    pub(super) head: Head,
    watermark_text: Option<String>,
}

impl Scanner {
    pub(super) fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut reader = NsReader::from_reader(Lines {
            inner: BufReader::with_capacity(1 << 20, file),
            newlines: 0,
        });
        {
            let config = reader.config_mut();
            config.check_end_names = true;
            config.expand_empty_elements = false;
        }
        Ok(Self {
            path: path.to_owned(),
            reader,
            outer: Vec::with_capacity(4),
            stack: Vec::with_capacity(8),
            skipping: None,
            line: 0,
            head: Head::default(),
            watermark_text: None,
        })
    }

    pub(super) fn malformed(&self, what: impl std::fmt::Display) -> DataError {
        DataError::Format(format!(
            "{} is not a well-formed deposit (line {}): {what}",
            self.path.display(),
            self.reader.get_ref().newlines + 1
        ))
    }

    pub(super) fn in_contents(&self) -> bool {
        self.outer.len() == 2 && self.outer[1].0 == RDE && self.outer[1].1 == "contents"
    }

    /// The next object of `<rde:contents>`: read in full when `want`
    /// says so for its namespace and local name, else passed over.
    pub(super) fn next_object(
        &mut self,
        want: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Option<Read>, DataError> {
        let mut buf = Vec::with_capacity(1024);
        loop {
            buf.clear();
            let (resolved, event) = match self.reader.read_resolved_event_into(&mut buf) {
                Ok(x) => x,
                Err(e) => {
                    let e = e.to_string();
                    return Err(self.malformed(e));
                }
            };
            let ns = match resolved {
                ResolveResult::Bound(ns) => ns.as_ref().to_owned(),
                ResolveResult::Unbound => String::new(),
                ResolveResult::Unknown(prefix) => {
                    if matches!(event, Event::Start(_) | Event::Empty(_)) {
                        let p = prefix.clone();
                        return Err(self.malformed(format!("undeclared prefix {p:?}")));
                    }
                    String::new()
                }
            };
            let line = self.reader.get_ref().newlines + 1;
            let empty = matches!(event, Event::Empty(_));
            if let Some((depth, _, _)) = &mut self.skipping {
                match event {
                    Event::Start(_) => *depth += 1,
                    Event::End(_) => *depth -= 1,
                    Event::Eof => return Err(self.malformed("the file ends inside an element")),
                    _ => {}
                }
                if *depth == 0
                    && let Some((_, ns, name)) = self.skipping.take()
                {
                    return Ok(Some(Read::Skipped(self.line, ns, name)));
                }
                continue;
            }
            if self.stack.is_empty()
                && self.in_contents()
                && let Event::Start(start) | Event::Empty(start) = &event
            {
                let name = start.local_name().as_ref().to_owned();
                if !want(&ns, &name) {
                    if empty {
                        return Ok(Some(Read::Skipped(line, ns, name)));
                    }
                    self.line = line;
                    self.skipping = Some((1, ns, name));
                    continue;
                }
            }
            match event {
                Event::Start(start) | Event::Empty(start)
                    if self.stack.is_empty() && !self.in_contents() =>
                {
                    let name = start.local_name().as_ref().to_owned();
                    if self.outer.is_empty() {
                        if ns != RDE || name != "deposit" {
                            return Err(self.malformed("the root element is not <rde:deposit>"));
                        }
                        let node =
                            element(&start, ns.clone(), &name).map_err(|e| self.malformed(e))?;
                        self.head.kind = node.attr("type").map(str::to_owned);
                    }
                    if self.outer.len() == 1 && ns == RDE && name == "watermark" {
                        self.watermark_text = Some(String::new());
                    }
                    if !empty {
                        self.outer.push((ns, name));
                    }
                }
                Event::Start(start) => {
                    let name = start.local_name().as_ref().to_owned();
                    if self.stack.is_empty() {
                        self.line = line;
                    }
                    let node = element(&start, ns, &name).map_err(|e| self.malformed(e))?;
                    self.stack.push(node);
                }
                Event::Empty(start) => {
                    let name = start.local_name().as_ref().to_owned();
                    let node = element(&start, ns, &name).map_err(|e| self.malformed(e))?;
                    match self.stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => return Ok(Some(Read::Object(line, node))),
                    }
                }
                Event::End(_) => {
                    if let Some(node) = self.stack.pop() {
                        match self.stack.last_mut() {
                            Some(parent) => parent.children.push(node),
                            None => return Ok(Some(Read::Object(self.line, node))),
                        }
                    } else {
                        if let Some((ns, name)) = self.outer.pop()
                            && ns == RDE
                            && name == "watermark"
                            && let Some(text) = self.watermark_text.take()
                        {
                            let t = parse_date("watermark", text.trim())
                                .map_err(|e| self.malformed(e))?;
                            self.head.watermark = Some(t);
                        }
                    }
                }
                Event::Text(t) => {
                    let content = t.xml10_content();
                    self.push_text(&content);
                }
                Event::CData(t) => {
                    let raw = t.into_inner();
                    self.push_text(&raw);
                }
                Event::GeneralRef(r) => {
                    let c = if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => c,
                            _ => return Err(self.malformed("a bad character reference")),
                        }
                    } else {
                        match r.xml10_content().as_ref() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                let other = other.to_owned();
                                return Err(self.malformed(format!("undeclared entity &{other};")));
                            }
                        }
                    };
                    let mut b = [0u8; 4];
                    self.push_text(c.encode_utf8(&mut b));
                }
                Event::DocType(_) => {
                    return Err(self.malformed("a DOCTYPE is not allowed"));
                }
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => {
                    if !self.outer.is_empty() || !self.stack.is_empty() {
                        return Err(self.malformed("the file ends inside an element"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(top) = self.stack.last_mut() {
            top.text.push_str(text);
        } else if let Some(w) = &mut self.watermark_text {
            w.push_str(text);
        }
    }
}

fn element(start: &BytesStart<'_>, ns: String, name: &str) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| format!("malformed attribute on <{name}>: {e}"))?;
        let key = attr.key;
        if key.as_ref() == "xmlns" || key.as_ref().starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("invalid attribute value on <{name}>: {e}"))?;
        attrs.push((key.local_name().as_ref().to_owned(), value.into_owned()));
    }
    Ok(Node {
        ns,
        name: name.to_owned(),
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counter_counts_what_was_consumed() {
        let mut lines = Lines {
            inner: BufReader::new("a\nb\nc\n".as_bytes()),
            newlines: 0,
        };
        let _ = lines.fill_buf().unwrap();
        lines.consume(2);
        assert_eq!(lines.newlines, 1);
        lines.consume(3);
        assert_eq!(lines.newlines, 2);
    }
}
