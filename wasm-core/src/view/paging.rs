//! Table paging: `共 28 条 < 1 2 3 > 10 条/页`.

/// The page sizes the tables offer (the seed's 10 条/页, and more).
pub const PAGE_SIZES: [u32; 3] = [10, 20, 50];

/// One button of the pager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageButton {
    Page(u32),
    /// `…` between distant pages.
    Gap,
}

/// Where a table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub total: u64,
    /// 1-based, within `1..=pages()`.
    pub page: u32,
    pub page_size: u32,
}

impl Paging {
    /// `page` clamped to the pages that exist (a filter may have shrunk them).
    pub fn new(total: u64, page: u32, page_size: u32) -> Paging {
        let page_size = if PAGE_SIZES.contains(&page_size) { page_size } else { PAGE_SIZES[0] };
        let mut paging = Paging { total, page: page.max(1), page_size };
        paging.page = paging.page.min(paging.pages());
        paging
    }

    /// At least 1 (an empty table has one, empty, page).
    pub fn pages(&self) -> u32 {
        let pages = self.total.div_ceil(u64::from(self.page_size)).max(1);
        u32::try_from(pages).unwrap_or(u32::MAX)
    }

    /// The row number (1-based, `#`) of the page's first row.
    pub fn first_index(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.page_size) + 1
    }

    pub fn has_prev(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }

    /// The page to show after the page size changed: the one holding the current first row.
    pub fn resized(&self, page_size: u32) -> Paging {
        let first = self.first_index() - 1;
        let page_size = if PAGE_SIZES.contains(&page_size) { page_size } else { PAGE_SIZES[0] };
        let page = u32::try_from(first / u64::from(page_size) + 1).unwrap_or(1);
        Paging::new(self.total, page, page_size)
    }

    /// The buttons: the first, the last, the current with two neighbours each side, gaps
    /// between (at most 9 buttons).
    pub fn buttons(&self) -> Vec<PageButton> {
        let pages = self.pages();
        if pages <= 9 {
            return (1..=pages).map(PageButton::Page).collect();
        }
        let (from, to) = (self.page.saturating_sub(2).max(2), (self.page + 2).min(pages - 1));
        let (from, to) = if from <= 3 { (2, to.max(6)) } else if to >= pages - 2 { (from.min(pages - 5), pages - 1) } else { (from, to) };
        let mut out = vec![PageButton::Page(1)];
        if from > 2 {
            out.push(PageButton::Gap);
        }
        out.extend((from..=to).map(PageButton::Page));
        if to < pages - 1 {
            out.push(PageButton::Gap);
        }
        out.push(PageButton::Page(pages));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PageButton::{Gap, Page};

    #[test]
    fn the_seed_pager() {
        let p = Paging::new(28, 1, 10);
        assert_eq!((p.pages(), p.first_index(), p.has_prev(), p.has_next()), (3, 1, false, true));
        assert_eq!(p.buttons(), [Page(1), Page(2), Page(3)]);
        let last = Paging::new(28, 3, 10);
        assert_eq!((last.first_index(), last.has_next()), (21, false));
    }

    #[test]
    fn pages_are_clamped_and_sizes_limited() {
        assert_eq!(Paging::new(0, 5, 10).page, 1);
        assert_eq!(Paging::new(0, 1, 10).pages(), 1);
        assert_eq!(Paging::new(25, 9, 10).page, 3);
        assert_eq!(Paging::new(25, 0, 10).page, 1);
        assert_eq!(Paging::new(25, 1, 7).page_size, 10);
        assert_eq!(Paging::new(50_000, 2, 50).first_index(), 51);
    }

    #[test]
    fn resizing_keeps_the_first_row_in_view() {
        let p = Paging::new(100, 4, 10); // rows 31–40
        let r = p.resized(20);
        assert_eq!((r.page, r.page_size), (2, 20)); // rows 21–40
        assert_eq!(Paging::new(100, 2, 50).resized(10).page, 6);
    }

    #[test]
    fn long_pagers_have_gaps() {
        assert_eq!(Paging::new(5000, 1, 10).buttons(), [Page(1), Page(2), Page(3), Page(4), Page(5), Page(6), Gap, Page(500)]);
        assert_eq!(Paging::new(5000, 250, 10).buttons(), [Page(1), Gap, Page(248), Page(249), Page(250), Page(251), Page(252), Gap, Page(500)]);
        assert_eq!(Paging::new(5000, 500, 10).buttons(), [Page(1), Gap, Page(495), Page(496), Page(497), Page(498), Page(499), Page(500)]);
        for page in 1..=40 {
            let b = Paging::new(400, page, 10).buttons();
            assert!(b.len() <= 9, "{page}: {b:?}");
            assert!(b.contains(&Page(page)), "{page}: {b:?}");
            assert_eq!((b[0], b[b.len() - 1]), (Page(1), Page(40)));
        }
    }
}
