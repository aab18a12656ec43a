//! A tiny backtracking regex engine for libphonenumber's patterns over ASCII digits.
//!
//! The metadata's patterns use a small dialect: digits, `\d`, classes, groups (capturing and
//! `(?:…)`), alternation, the quantifiers `? * + {n} {n,} {n,m}` (and their lazy forms), `^`, `$`.
//! Inputs are always strings of ASCII digits, so a class is a ten-bit mask and anything that is
//! not a digit never matches. Matching is leftmost-first with the priorities of a backtracking
//! engine, which is what the `regex` crate (behind the `phonenumber` crate) reports too; the
//! differential test holds the two to the same answers on every metadata pattern.
//!
//! This file is also compiled by `build.rs`, which parses every pattern at build time so an
//! unsupported construct fails the build rather than a user.

/// A parse error, with the pattern and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

#[derive(Debug, Clone)]
enum Node {
    /// One character from the set (bit `d` = digit `d`).
    Set(u16),
    /// A group: alternatives, and the capture slot if it captures.
    Group(Vec<Vec<Node>>, Option<usize>),
    /// `inner{min,max}`; `max == u32::MAX` is unbounded.
    Repeat(Box<Node>, u32, u32, bool),
    /// `^`
    Start,
    /// `$`
    End,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    alts: Vec<Vec<Node>>,
    groups: usize,
}

/// Where a match and its groups are, as byte ranges of the input.
pub type Captures = Vec<Option<(usize, usize)>>;

const ALL: u16 = 0x3ff;

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    groups: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> Error {
        Error(format!(
            "{what} at {} in /{}/",
            self.pos,
            std::str::from_utf8(self.src).unwrap_or("(not UTF-8)")
        ))
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn alternation(&mut self) -> Result<Vec<Vec<Node>>, Error> {
        let mut alts = vec![self.sequence()?];
        while self.eat(b'|') {
            alts.push(self.sequence()?);
        }
        Ok(alts)
    }

    fn sequence(&mut self) -> Result<Vec<Node>, Error> {
        let mut seq = Vec::new();
        while let Some(b) = self.peek() {
            if b == b'|' || b == b')' {
                break;
            }
            let atom = self.atom()?;
            let atom = self.quantified(atom)?;
            seq.push(atom);
        }
        Ok(seq)
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.src[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, Error> {
        let (min, max) = match self.peek() {
            Some(b'?') => (0, 1),
            Some(b'*') => (0, u32::MAX),
            Some(b'+') => (1, u32::MAX),
            Some(b'{') => {
                self.pos += 1;
                let min = self.number().ok_or_else(|| self.err("bad repetition"))?;
                let max = if self.eat(b',') {
                    if self.peek() == Some(b'}') {
                        u32::MAX
                    } else {
                        self.number().ok_or_else(|| self.err("bad repetition"))?
                    }
                } else {
                    min
                };
                if self.peek() != Some(b'}') || max < min {
                    return Err(self.err("bad repetition"));
                }
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.pos += 1;
        if matches!(atom, Node::Start | Node::End) {
            return Err(self.err("repeated anchor"));
        }
        let greedy = !self.eat(b'?');
        if matches!(self.peek(), Some(b'?' | b'*' | b'+' | b'{')) {
            return Err(self.err("stacked repetition"));
        }
        Ok(Node::Repeat(Box::new(atom), min, max, greedy))
    }

    fn atom(&mut self) -> Result<Node, Error> {
        let b = self.peek().ok_or_else(|| self.err("unexpected end"))?;
        self.pos += 1;
        Ok(match b {
            b'0'..=b'9' => Node::Set(1 << (b - b'0')),
            b'.' => Node::Set(ALL),
            b'^' => Node::Start,
            b'$' => Node::End,
            b'\\' => Node::Set(self.escape()?),
            b'[' => Node::Set(self.class()?),
            b'(' => {
                let slot = if self.eat(b'?') {
                    if !self.eat(b':') {
                        return Err(self.err("unsupported group flag"));
                    }
                    None
                } else {
                    self.groups += 1;
                    Some(self.groups)
                };
                let alts = self.alternation()?;
                if !self.eat(b')') {
                    return Err(self.err("unclosed group"));
                }
                Node::Group(alts, slot)
            }
            b'?' | b'*' | b'+' | b'{' | b')' | b'|' => return Err(self.err("misplaced operator")),
            b if b.is_ascii_alphabetic() || b.is_ascii_whitespace() || b >= 0x80 => {
                return Err(self.err("unsupported literal"))
            }
            // Other ASCII punctuation is a literal that no digit matches.
            _ => Node::Set(0),
        })
    }

    /// After a backslash: `\d`, or an escaped punctuation literal.
    fn escape(&mut self) -> Result<u16, Error> {
        let b = self.peek().ok_or_else(|| self.err("dangling escape"))?;
        self.pos += 1;
        match b {
            b'd' => Ok(ALL),
            b if b.is_ascii_punctuation() => Ok(0),
            _ => Err(self.err("unsupported escape")),
        }
    }

    fn class(&mut self) -> Result<u16, Error> {
        let negated = self.eat(b'^');
        let mut mask = 0u16;
        let mut first = true;
        loop {
            let b = self.peek().ok_or_else(|| self.err("unclosed class"))?;
            if b == b']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let lo = match b {
                b'\\' => {
                    mask |= self.escape()?;
                    continue;
                }
                b'0'..=b'9' => b,
                b if b.is_ascii_punctuation() => {
                    continue;
                }
                _ => return Err(self.err("unsupported class member")),
            };
            if self.peek() == Some(b'-') && self.src.get(self.pos + 1) != Some(&b']') {
                self.pos += 1;
                let hi = self.peek().ok_or_else(|| self.err("unclosed class"))?;
                if !hi.is_ascii_digit() || hi < lo {
                    return Err(self.err("bad range"));
                }
                self.pos += 1;
                for d in lo..=hi {
                    mask |= 1 << (d - b'0');
                }
            } else {
                mask |= 1 << (lo - b'0');
            }
        }
        Ok(if negated { !mask & ALL } else { mask })
    }
}

impl Regex {
    /// Compiles a pattern; whitespace is ignored, as the metadata's patterns are read in
    /// extended mode.
    pub fn new(pattern: &str) -> Result<Self, Error> {
        let compact: Vec<u8> = pattern
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let mut p = Parser {
            src: &compact,
            pos: 0,
            groups: 0,
        };
        let alts = p.alternation()?;
        if p.pos != compact.len() {
            return Err(p.err("unbalanced parenthesis"));
        }
        Ok(Self {
            alts,
            groups: p.groups,
        })
    }

    /// The shortest and longest text a match can span (`usize::MAX` when unbounded).
    pub fn span(&self) -> (usize, usize) {
        fn alts(alts: &[Vec<Node>]) -> (usize, usize) {
            alts.iter()
                .map(|seq| seq_span(seq))
                .fold((usize::MAX, 0), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)))
        }
        fn seq_span(seq: &[Node]) -> (usize, usize) {
            seq.iter().map(node).fold((0, 0), |(lo, hi), (a, b)| {
                (lo.saturating_add(a), hi.saturating_add(b))
            })
        }
        fn node(n: &Node) -> (usize, usize) {
            match n {
                Node::Set(_) => (1, 1),
                Node::Start | Node::End => (0, 0),
                Node::Group(a, _) => alts(a),
                Node::Repeat(inner, min, max, _) => {
                    let (lo, hi) = node(inner);
                    let times = |n: usize, t: u32| match t {
                        u32::MAX if n > 0 => usize::MAX,
                        t => n.saturating_mul(t as usize),
                    };
                    (times(lo, *min), times(hi, *max))
                }
            }
        }
        alts(&self.alts)
    }

    /// The number of capture slots, counting the whole match as slot 0.
    pub fn captures_len(&self) -> usize {
        self.groups + 1
    }

    /// The leftmost-first match and its groups, or `None`.
    pub fn captures(&self, text: &str) -> Option<Captures> {
        (0..=text.len()).find_map(|start| self.captures_from(text, start))
    }

    /// The match starting at the beginning of `text`, if there is one. The same answer as
    /// [`Regex::captures`] filtered to matches at 0 (a leftmost match starts at 0 whenever one
    /// can), without trying the later starts.
    pub fn captures_at_start(&self, text: &str) -> Option<Captures> {
        self.captures_from(text, 0)
    }

    fn captures_from(&self, text: &str, start: usize) -> Option<Captures> {
        let mut caps = vec![None; self.captures_len()];
        let m = Matcher::new(text.as_bytes(), false);
        let mut end = None;
        m.alts(&self.alts, start, &mut caps, &mut |p, _| {
            end = Some(p);
            true
        })
        .then(|| {
            caps[0] = end.map(|e| (start, e));
            caps
        })
    }

    /// The end of the match starting at the beginning of `text`, if there is one.
    pub fn end_at_start(&self, text: &str) -> Option<usize> {
        self.captures_at_start(text).and_then(|c| c[0]).map(|m| m.1)
    }

    /// The leftmost-first match, as a byte range.
    pub fn find(&self, text: &str) -> Option<(usize, usize)> {
        self.captures(text).and_then(|c| c[0])
    }

    /// Whether a match starts at the beginning of `text` (how the metadata's patterns are
    /// applied: `find` and then a check that the match starts at 0).
    pub fn matches_at_start(&self, text: &str) -> bool {
        let m = Matcher::new(text.as_bytes(), false);
        let mut caps = vec![None; self.captures_len()];
        m.alts(&self.alts, 0, &mut caps, &mut |_, _| true)
    }

    /// For text still being typed: the groups of a match at the start of `text` or of some
    /// longer text that begins with it, `None` when no continuation can match. With `cover`, the
    /// match must take all of `text` (a format pattern); without, a match of a prefix will do (a
    /// leading-digits pattern). A group cut off by the end of `text` ends there; groups not
    /// reached are `None`.
    pub fn partial(&self, text: &str, cover: bool) -> Option<Captures> {
        let m = Matcher::new(text.as_bytes(), true);
        let mut caps = vec![None; self.captures_len()];
        let len = text.len();
        let found = m.alts(&self.alts, 0, &mut caps, &mut |p, c| {
            if cover && p != len {
                return false;
            }
            c[0] = Some((0, p));
            m.accept(c);
            true
        });
        found.then(|| m.accepted.take()).flatten()
    }

    /// Replaces the leftmost match with `replacement`, expanding `$1`, `${1}` and `$$` as the
    /// `regex` crate does.
    pub fn replace(&self, text: &str, replacement: &str) -> String {
        match self.captures(text) {
            None => text.to_string(),
            Some(caps) => {
                let (start, end) = caps[0].unwrap_or((0, 0));
                let mut out = String::with_capacity(text.len() + replacement.len());
                out.push_str(&text[..start]);
                expand(text, &caps, replacement, &mut out);
                out.push_str(&text[end..]);
                out
            }
        }
    }
}

/// `Captures::expand` of the `regex` crate: `$name` takes the longest run of `[_0-9A-Za-z]`,
/// `${name}` is braced, `$$` is a dollar; a name that is not a group number expands to nothing.
pub fn expand(text: &str, caps: &Captures, replacement: &str, out: &mut String) {
    let mut rest = replacement;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let (name, after) = if let Some(braced) = rest.strip_prefix('{') {
            match braced.find('}') {
                Some(close) if close > 0 => (&braced[..close], &braced[close + 1..]),
                _ => {
                    out.push('$');
                    continue;
                }
            }
        } else {
            let len = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if len == 0 {
                out.push('$');
                continue;
            }
            (&rest[..len], &rest[len..])
        };
        if let Ok(index) = name.parse::<usize>() {
            if let Some(Some((s, e))) = caps.get(index) {
                out.push_str(&text[*s..*e]);
            }
        }
        rest = after;
    }
    out.push_str(rest);
}

struct Matcher<'a> {
    input: &'a [u8],
    /// Running out of input counts as a match (text still being typed).
    partial: bool,
    accepted: std::cell::RefCell<Option<Captures>>,
}

type Cont<'k> = &'k mut dyn FnMut(usize, &mut Captures) -> bool;

/// The end of a group that is still open.
const OPEN: usize = usize::MAX;

impl<'a> Matcher<'a> {
    fn new(input: &'a [u8], partial: bool) -> Self {
        Self {
            input,
            partial,
            accepted: std::cell::RefCell::new(None),
        }
    }

    /// Records a partial match: groups still open end where the input does.
    fn accept(&self, caps: &Captures) {
        let len = self.input.len();
        let closed = caps
            .iter()
            .map(|c| c.map(|(s, e)| (s, if e == OPEN { len } else { e })))
            .collect();
        *self.accepted.borrow_mut() = Some(closed);
    }

    fn alts(&self, alts: &[Vec<Node>], pos: usize, caps: &mut Captures, k: Cont<'_>) -> bool {
        alts.iter().any(|seq| self.seq(seq, pos, caps, &mut *k))
    }

    fn seq(&self, seq: &[Node], pos: usize, caps: &mut Captures, k: Cont<'_>) -> bool {
        match seq.split_first() {
            None => k(pos, caps),
            Some((node, rest)) => {
                self.node(node, pos, caps, &mut |p, c| self.seq(rest, p, c, &mut *k))
            }
        }
    }

    fn node(&self, node: &Node, pos: usize, caps: &mut Captures, k: Cont<'_>) -> bool {
        match node {
            Node::Set(mask) => match self.input.get(pos) {
                Some(b @ b'0'..=b'9') if mask & (1 << (b - b'0')) != 0 => k(pos + 1, caps),
                None if self.partial && *mask != 0 => {
                    let mut whole = caps.clone();
                    whole[0] = Some((0, pos));
                    self.accept(&whole);
                    true
                }
                _ => false,
            },
            Node::Start => pos == 0 && k(pos, caps),
            Node::End => pos == self.input.len() && k(pos, caps),
            Node::Group(alts, None) => self.alts(alts, pos, caps, k),
            Node::Group(alts, Some(slot)) => {
                let slot = *slot;
                let outer = caps[slot];
                caps[slot] = Some((pos, OPEN));
                let found = self.alts(alts, pos, caps, &mut |p, c| {
                    let inner = c[slot];
                    c[slot] = Some((pos, p));
                    if k(p, c) {
                        return true;
                    }
                    c[slot] = inner;
                    false
                });
                if !found {
                    caps[slot] = outer;
                }
                found
            }
            Node::Repeat(inner, min, max, greedy) => {
                self.repeat(inner, *min, *max, *greedy, 0, pos, caps, k)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn repeat(
        &self,
        inner: &Node,
        min: u32,
        max: u32,
        greedy: bool,
        count: u32,
        pos: usize,
        caps: &mut Captures,
        k: Cont<'_>,
    ) -> bool {
        let again = |c: &mut Captures, k: Cont<'_>| {
            count < max
                && self.node(inner, pos, c, &mut |p, c| {
                    // An empty iteration past the minimum cannot lead anywhere new.
                    (p != pos || count < min)
                        && self.repeat(inner, min, max, greedy, count + 1, p, c, &mut *k)
                })
        };
        if count < min {
            return again(caps, k);
        }
        if greedy {
            again(caps, &mut *k) || k(pos, caps)
        } else {
            k(pos, caps) || again(caps, k)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(p: &str, t: &str) -> Option<(usize, usize)> {
        Regex::new(p).unwrap().find(t)
    }

    #[test]
    fn classes_groups_and_repetition() {
        assert_eq!(find(r"[2-9]\d{2}", "1234"), Some((1, 4)));
        assert_eq!(find(r"[^0]\d", "0012"), Some((2, 4)));
        assert_eq!(find(r"(?:1|12)3", "123"), Some((0, 3)));
        assert_eq!(
            find(r"1|12", "12"),
            Some((0, 1)),
            "leftmost-first, not longest"
        );
        assert_eq!(find(r"\d{2,3}?", "1234"), Some((0, 2)), "lazy");
        assert_eq!(find(r"\d{2,}", "12345"), Some((0, 5)));
        assert_eq!(find(r"^5", "15"), None);
        assert_eq!(find(r"5$", "515"), Some((2, 3)));
        assert_eq!(
            find(r"\+?1", "1"),
            Some((0, 1)),
            "non-digit literals never match"
        );
        assert_eq!(find("[2-9] \\d", "29"), Some((0, 2)), "whitespace ignored");
    }

    #[test]
    fn captures_and_replacement_follow_the_regex_crate() {
        let re = Regex::new(r"(\d{3})(\d{3})(\d{4})").unwrap();
        assert_eq!(re.captures_len(), 4);
        assert_eq!(re.replace("2015550123", "($1) $2-$3"), "(201) 555-0123");
        assert_eq!(re.replace("x", "$1"), "x");
        let re = Regex::new(r"0(?:(1\d)|(2))?").unwrap();
        let caps = re.captures("0215").unwrap();
        assert_eq!(caps, vec![Some((0, 2)), None, Some((1, 2))]);
        assert_eq!(re.replace("0215", "[$1|$2|$$|${2}|$x|$]"), "[|2|$|2||$]15");
        let re = Regex::new(r"(\d)+").unwrap();
        assert_eq!(
            re.captures("123").unwrap()[1],
            Some((2, 3)),
            "last iteration"
        );
    }

    #[test]
    fn partial_matches_describe_text_still_being_typed() {
        let re = Regex::new(r"(\d{3})(\d{3})(\d{4})").unwrap();
        let caps = re.partial("20155", true).unwrap();
        assert_eq!(caps, vec![Some((0, 5)), Some((0, 3)), Some((3, 5)), None]);
        assert!(
            re.partial("20155501234", true).is_none(),
            "too long to cover"
        );
        assert!(
            re.partial("20155501234", false).is_some(),
            "a prefix matches"
        );
        let lead = Regex::new(r"[2-9]1").unwrap();
        assert!(lead.partial("2", false).is_some());
        assert!(lead.partial("1", false).is_none());
        assert!(lead.partial("215", false).is_some());
    }

    #[test]
    fn anchored_and_leftmost_agree_at_the_start() {
        let re = Regex::new(r"0|(\d)0").unwrap();
        for text in ["0", "10", "110", "1", "", "00"] {
            let leftmost = re.captures(text).filter(|c| c[0].is_some_and(|m| m.0 == 0));
            assert_eq!(re.captures_at_start(text), leftmost, "{text}");
        }
        assert_eq!(re.end_at_start("105"), Some(2));
        assert_eq!(re.end_at_start("5"), None);
    }

    #[test]
    fn spans() {
        let span = |p: &str| Regex::new(p).unwrap().span();
        assert_eq!(span(r"(\d{3})(\d{3,4})"), (6, 7));
        assert_eq!(span(r"1|234"), (1, 3));
        assert_eq!(span(r"\d+"), (1, usize::MAX));
        assert_eq!(span(r"(?:12)?3"), (1, 3));
    }

    #[test]
    fn unsupported_syntax_is_an_error_not_a_wrong_answer() {
        for bad in [r"\w", "(?i)1", "[a-z]", "1{3,2}", "(1", "1)", "a", "1**"] {
            assert!(Regex::new(bad).is_err(), "{bad}");
        }
    }
}
