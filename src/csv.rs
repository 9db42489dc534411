//! CSV as RFC 4180 has it, for Export/Import-CsXmppAllowedPartner: comma-separated fields, a
//! field quoted when it holds a comma, a quote or a line break (quotes doubled inside), CRLF or
//! LF line ends. Written by hand: the `csv` crate is not among the Debian packages this project
//! builds from, and this is all the format the list needs.

/// One record as a line (CRLF-terminated, as RFC 4180 and Excel write it).
pub fn write_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) || field.starts_with(' ') || field.ends_with(' ') {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// The records of `text` (a byte-order mark and blank lines skipped), each with the line it
/// starts on; a quote that never closes, or text after a closing quote, is an error naming the
/// line.
pub fn parse(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        loop {
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    loop {
                        match chars.next() {
                            None => return Err(format!("line {start}: a quoted field is never closed")),
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    if !matches!(chars.peek(), None | Some(',') | Some('\r') | Some('\n')) {
                        return Err(format!("line {line}: text after a closing quote"));
                    }
                }
                Some(',') => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    fields.push(std::mem::take(&mut field));
                    line += 1;
                    break;
                }
                Some(c) => {
                    if quoted_field {
                        return Err(format!("line {line}: text after a closing quote"));
                    }
                    field.push(c);
                }
            }
        }
        if !(fields.len() == 1 && fields[0].is_empty()) {
            records.push((start, fields));
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_through_quoting() {
        let fields = ["plain", "a,b", "say \"hi\"", "two\nlines", " padded ", ""];
        let mut out = String::new();
        write_record(&mut out, fields);
        write_record(&mut out, ["x"]);
        let parsed = parse(&out).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].1, fields.map(String::from).to_vec());
        assert_eq!(parsed[1], (3, vec!["x".to_string()]));
    }

    #[test]
    fn bom_lf_and_blank_lines_are_accepted_and_bad_quotes_named() {
        let parsed = parse("\u{feff}a,b\n\nc,\"d\"\n").unwrap();
        assert_eq!(parsed, vec![(1, vec!["a".into(), "b".into()]), (3, vec!["c".into(), "d".into()])]);
        assert!(parse("a,\"b\n").unwrap_err().contains("line 1"));
        assert!(parse("a\n\"b\"c\n").unwrap_err().contains("line 2"));
    }
}
