//! The widget's stylesheet as it ships: `style/lock.css` without its comments and the whitespace
//! CSS does not need. One function for every shipped copy: the crate's build script writes the
//! one compiled into the widget, and the xtask the JS bundle's (the loader's and
//! `lock-passwordless.css`), so they are the same text. A browser test checks that Chromium reads
//! the same rules from it as from `lock.css`.

/// `css` minified: comments dropped; whitespace collapsed to one space, and dropped next to `{`,
/// `}`, `;` and `,` and after `:`; each block's last `;` dropped. Kept as they are: strings, and
/// whitespace before a `:` (in a selector `a :hover` and `a:hover` differ) or around anything
/// else (`calc(100% - 4px)` and `@media screen and (…)` need it). A custom property's value
/// (`--name: …`) keeps a space wherever it had whitespace but at its ends: the browser keeps
/// such a value as written, until it is substituted.
pub fn minify_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut space = false;
    // Where the current declaration (or selector) starts in `out`, and whether we are in a
    // custom property's value.
    let mut start = 0;
    let mut custom = false;
    let mut chars = css.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            let mut last = ' ';
            for d in chars.by_ref() {
                if last == '*' && d == '/' {
                    break;
                }
                last = d;
            }
            // A comment is no whitespace: `.a/**/.b` is `.a.b`.
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        let needed = if custom {
            !out.ends_with(':') && !matches!(c, '}' | ';')
        } else {
            !out.is_empty()
                && !out.ends_with(['{', '}', ';', ':', ','])
                && !matches!(c, '{' | '}' | ';' | ',')
        };
        if space && needed {
            out.push(' ');
        }
        space = false;
        if c == '}' && out.ends_with(';') {
            out.pop();
        }
        out.push(c);
        match c {
            '{' | '}' | ';' => {
                start = out.len();
                custom = false;
            }
            ':' if !custom && out[start..].starts_with("--") => custom = true,
            _ => {}
        }
        if c == '"' || c == '\'' {
            while let Some(d) = chars.next() {
                out.push(d);
                if d == '\\' {
                    out.extend(chars.next());
                } else if d == c {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::minify_css;

    #[test]
    fn comments_and_needless_whitespace_go() {
        assert_eq!(
            minify_css("/* a */\n.a .b ,\n.c > .d {\n  color : red ;\n  margin: 0 auto;\n}\n"),
            ".a .b,.c > .d{color :red;margin:0 auto}"
        );
        assert_eq!(minify_css(".a/**/.b{x:y}"), ".a.b{x:y}");
    }

    #[test]
    fn custom_property_values_keep_their_spaces() {
        assert_eq!(
            minify_css(".a {\n  --c:  mix(in srgb, var(--b) 50%,  #fff) ;\n  d: f(1, 2); }"),
            ".a{--c:mix(in srgb, var(--b) 50%, #fff);d:f(1,2)}"
        );
    }

    #[test]
    fn what_changes_the_meaning_stays() {
        // A descendant's pseudo-class, arithmetic, media queries' words.
        assert_eq!(minify_css(".a :focus { x: y }"), ".a :focus{x:y}");
        assert_eq!(
            minify_css("a { width: calc(100% - 4px); }"),
            "a{width:calc(100% - 4px)}"
        );
        assert_eq!(
            minify_css("@media screen and (max-width: 10px) { a { b: c } }"),
            "@media screen and (max-width:10px){a{b:c}}"
        );
        // Strings, with their spaces, comment marks and escaped quotes.
        assert_eq!(
            minify_css(r#"a { font: "Segoe  UI, /* x */", 'it\'s ;' ; }"#),
            r#"a{font:"Segoe  UI, /* x */",'it\'s ;'}"#
        );
    }
}
