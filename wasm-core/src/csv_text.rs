//! The small CSV dialect of DataLink's data files (`native-host/data/*.csv` and users' imports).
//!
//! One record per line, fields separated by `,`, a field may be wrapped in double quotes (then
//! `""` is a literal quote and commas are allowed inside). A UTF-8 BOM is ignored, blank lines and
//! lines starting with `#` are skipped, and the first remaining line must be the exact header.
//! Line numbers count every physical line from 1, so an error names the line a person sees in an
//! editor.

/// One record: its line number and fields.
pub(crate) type Record = (usize, Vec<String>);

/// The records of `text` after its header, or `(line number, message)`.
pub(crate) fn records(text: &str, header: &str) -> Result<Vec<Record>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line.trim_end_matches('\r')));
    let mut saw_header = false;
    let mut out = Vec::new();
    for (number, line) in &mut lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !saw_header {
            if line.trim() != header {
                return Err((number, format!("表头应为 {header}")));
            }
            saw_header = true;
            continue;
        }
        out.push((number, split(line).map_err(|message| (number, message))?));
    }
    if !saw_header {
        return Err((1, format!("文件为空，缺少表头 {header}")));
    }
    Ok(out)
}

/// The fields of one line.
pub(crate) fn split(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_start && !quoted => quoted = true,
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                    if !matches!(chars.peek(), None | Some(',')) {
                        return Err("引号后必须是逗号或行尾".to_owned());
                    }
                }
            }
            ',' if !quoted => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
                continue;
            }
            other => field.push(other),
        }
        at_start = false;
    }
    if quoted {
        return Err("引号没有闭合".to_owned());
    }
    fields.push(field);
    Ok(fields.into_iter().map(|f| f.trim().to_owned()).collect())
}

/// One field, quoted when it holds a comma, a quote or a line break.
pub(crate) fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_and_quoted_fields() {
        assert_eq!(split("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(split("\"x, y\",\"say \"\"hi\"\"\",z").unwrap(), ["x, y", "say \"hi\"", "z"]);
        assert!(split("\"open").is_err());
        assert!(split("\"a\"b,c").is_err());
        assert_eq!(split(&[field("a,b"), field("q\""), field("p")].join(",")).unwrap(), ["a,b", "q\"", "p"]);
    }

    #[test]
    fn header_comments_and_line_numbers() {
        let text = "\u{feff}# comment\nh1,h2\n\n1,2\r\n# skip\n3,4\n";
        let rows = records(text, "h1,h2").unwrap();
        assert_eq!(rows, vec![(4, vec!["1".to_owned(), "2".to_owned()]), (6, vec!["3".to_owned(), "4".to_owned()])]);
        assert_eq!(records("x,y\n", "h1,h2").unwrap_err().0, 1);
        assert_eq!(records("", "h1,h2").unwrap_err().0, 1);
    }
}
