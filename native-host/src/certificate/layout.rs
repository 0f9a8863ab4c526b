//! Pure layout decisions: where a paragraph breaks into lines, and how wide a table's columns
//! are. No PDF and no font here — widths come from a `measure` function (points at a fixed
//! size), so the rules are unit-tested with a fake font.
//!
//! **Line breaking** is greedy and per character, as Chinese typesetting allows a break between
//! any two ideographs, with three refinements:
//! * a run of ASCII non-space characters (an amount `12,345,678.90`, a credit code
//!   `91610000MA6TG1234X`, a year `2025`) is one unbreakable token — unless it is longer than a
//!   whole line, when it breaks by character;
//! * closing punctuation (`，。、；：）》」”！？`…) never starts a line: when it does not fit, it
//!   hangs past the right edge (into the margin);
//! * opening punctuation (`（《「“`) never ends a line: it moves down with what follows.
//!
//! **Table columns** get their natural width (widest cell + padding). A table narrower than
//! the page is stretched to the page width in proportion; a wider one first shrinks its font
//! (down to [`MIN_TABLE_SIZE`]), and only then squeezes its columns (cells are clipped).

/// Never start a line with these.
const CLOSING: &str = "，。、；：？！）》」』】〕”’,.;:?!)]}%…·";
/// Never end a line with these.
const OPENING: &str = "（《「『【〔“‘([{";

/// The smallest font size a table may shrink to, in points.
pub(crate) const MIN_TABLE_SIZE: f64 = 6.0;

fn is_closing(token: &str) -> bool {
    let mut chars = token.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if CLOSING.contains(c))
}

fn is_opening(c: char) -> bool {
    OPENING.contains(c)
}

/// Splits `text` into tokens: ASCII runs, single spaces, single other characters.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let ascii_word = c.is_ascii_graphic();
        match (start, ascii_word) {
            (None, true) => start = Some(i),
            (Some(_), true) => {}
            (Some(s), false) => {
                out.push(&text[s..i]);
                start = None;
                out.push(&text[i..i + c.len_utf8()]);
            }
            (None, false) => out.push(&text[i..i + c.len_utf8()]),
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Breaks one paragraph into lines: the first line is `first_width` points wide (the paragraph
/// indent already taken off), the others `width`. `measure` gives a string's width in points.
pub(crate) fn break_lines(text: &str, first_width: f64, width: f64, measure: &dyn Fn(&str) -> f64) -> Vec<String> {
    const EPS: f64 = 1e-6;
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_width = 0.0;
    let limit = |lines: &Vec<String>| if lines.is_empty() { first_width } else { width };

    // Places one token that is at most a line wide (or a single character).
    let place = |token: &str, lines: &mut Vec<String>, current: &mut String, current_width: &mut f64| {
        if token == " " && current.is_empty() {
            return;
        }
        let w = measure(token);
        if *current_width + w <= limit(lines) + EPS || current.is_empty() || is_closing(token) {
            current.push_str(token);
            *current_width += w;
            return;
        }
        if token == " " {
            lines.push(current.trim_end().to_owned());
            current.clear();
            *current_width = 0.0;
            return;
        }
        // Keep an opening bracket with what follows it (unless it is all the line has).
        let mut carry = String::new();
        if let Some(last) = current.chars().last() {
            if is_opening(last) && current.chars().count() > 1 {
                current.pop();
                carry.push(last);
            }
        }
        lines.push(current.trim_end().to_owned());
        current.clear();
        current.push_str(&carry);
        current.push_str(token);
        *current_width = measure(current);
    };

    for token in tokens(text) {
        if token.len() > 1 && measure(token) > width + EPS {
            // Longer than any line: break it by character.
            for (i, c) in token.char_indices() {
                place(&token[i..i + c.len_utf8()], &mut lines, &mut current, &mut current_width);
            }
        } else {
            place(token, &mut lines, &mut current, &mut current_width);
        }
    }
    let last = current.trim_end();
    if !last.is_empty() || lines.is_empty() {
        lines.push(last.to_owned());
    }
    lines
}

/// A table's fitted geometry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnFit {
    /// Font size for the cells, points.
    pub size: f64,
    /// Column widths, points; they add up to the available width.
    pub widths: Vec<f64>,
    /// True when even at [`MIN_TABLE_SIZE`] the content did not fit and columns were squeezed
    /// (cells are clipped).
    pub squeezed: bool,
}

/// Fits columns whose widest text is `text_widths` points at `base_size` into `available`
/// points, with `padding` points on each side of every cell.
pub(crate) fn fit_columns(text_widths: &[f64], base_size: f64, padding: f64, available: f64) -> ColumnFit {
    let n = text_widths.len();
    if n == 0 {
        return ColumnFit { size: base_size, widths: Vec::new(), squeezed: false };
    }
    let pad_total = 2.0 * padding * n as f64;
    let text_total: f64 = text_widths.iter().sum();
    let size = if text_total + pad_total <= available || text_total <= 0.0 {
        base_size
    } else {
        (base_size * (available - pad_total) / text_total).clamp(MIN_TABLE_SIZE.min(base_size), base_size)
    };
    let natural: Vec<f64> = text_widths.iter().map(|w| w * size / base_size + 2.0 * padding).collect();
    let total: f64 = natural.iter().sum();
    let squeezed = total > available + 1e-6;
    // Stretch (or squeeze) in proportion to the natural widths.
    let widths = natural.iter().map(|w| w * available / total).collect();
    ColumnFit { size, widths, squeezed }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 pt per CJK character, 5 pt per ASCII character.
    fn fake(text: &str) -> f64 {
        text.chars().map(|c| if c.is_ascii() { 5.0 } else { 10.0 }).sum()
    }

    #[test]
    fn tokens_keep_ascii_runs_whole() {
        assert_eq!(tokens("人民币12,345.60万、美元 7 万"), vec!["人", "民", "币", "12,345.60", "万", "、", "美", "元", " ", "7", " ", "万"]);
    }

    #[test]
    fn breaks_per_character_with_indent() {
        // 10 characters, 40 pt per line, first line 20 pt (a 2-em indent taken off).
        let lines = break_lines("一二三四五六七八九十", 20.0, 40.0, &fake);
        assert_eq!(lines, vec!["一二", "三四五六", "七八九十"]);
    }

    #[test]
    fn numbers_and_codes_are_not_split() {
        // "金额12,345.60元": the amount (45 pt) does not fit after 金额 (20 pt) on a 60 pt line.
        let lines = break_lines("金额12,345.60元", 60.0, 60.0, &fake);
        assert_eq!(lines, vec!["金额", "12,345.60元"]);
    }

    #[test]
    fn closing_punctuation_hangs_and_opening_moves_down() {
        // "一二三四，" on a 40 pt line: the comma hangs instead of starting line 2.
        assert_eq!(break_lines("一二三四，五六", 40.0, 40.0, &fake), vec!["一二三四，", "五六"]);
        // "一二三（四": the bracket would end line 1; it moves down with 四.
        assert_eq!(break_lines("一二三（四五", 40.0, 40.0, &fake), vec!["一二三", "（四五"]);
        // Consecutive closing marks all hang.
        assert_eq!(break_lines("一二三四）。五", 40.0, 40.0, &fake), vec!["一二三四）。", "五"]);
    }

    #[test]
    fn overlong_ascii_breaks_by_character_and_spaces_do_not_lead() {
        let long = "A".repeat(12); // 60 pt on a 25 pt line
        assert_eq!(break_lines(&long, 25.0, 25.0, &fake), vec!["AAAAA", "AAAAA", "AA"]);
        assert_eq!(break_lines("ab cd ef", 25.0, 25.0, &fake), vec!["ab cd", "ef"]);
        assert_eq!(break_lines("", 25.0, 25.0, &fake), vec![""]);
    }

    #[test]
    fn columns_stretch_to_the_page() {
        let fit = fit_columns(&[40.0, 120.0], 10.0, 5.0, 300.0);
        assert_eq!(fit.size, 10.0);
        assert!(!fit.squeezed);
        // natural 50 + 130 = 180, stretched by 300/180
        assert!((fit.widths[0] - 50.0 * 300.0 / 180.0).abs() < 1e-9);
        assert!((fit.widths.iter().sum::<f64>() - 300.0).abs() < 1e-9);
    }

    #[test]
    fn wide_tables_shrink_the_font_then_squeeze() {
        // text 400 pt + padding 20 pt into 220 pt: size 10 × 200/400 = 5 → clamped to 6.
        let fit = fit_columns(&[200.0, 200.0], 10.0, 5.0, 220.0);
        assert_eq!(fit.size, MIN_TABLE_SIZE);
        assert!(fit.squeezed);
        assert!((fit.widths.iter().sum::<f64>() - 220.0).abs() < 1e-9);
        // text 300 pt + padding 20 into 260: size 10 × 240/300 = 8, exact fit.
        let fit = fit_columns(&[100.0, 200.0], 10.0, 5.0, 260.0);
        assert!((fit.size - 8.0).abs() < 1e-9);
        assert!(!fit.squeezed);
        assert!((fit.widths[0] - 90.0).abs() < 1e-9 && (fit.widths[1] - 170.0).abs() < 1e-9);
    }
}
