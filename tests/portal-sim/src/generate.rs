//! The deterministic synthetic enterprise and its declarations.
//!
//! [`generate`] is a pure function of `(seed, n, from, to, today)`: the same
//! arguments give the same [`Dataset`], field for field, on every platform
//! (all draws come from [`crate::rng`], integers only, except comparisons of
//! exactly-converted floats). The distributions, also documented in the
//! crate README:
//!
//! * **Days.** Every calendar month in `[from, to]` gets a weight: 12 % of
//!   months are *empty* (weight 0), 18 % are *busy* (×3), the rest ×1, times a
//!   season factor (February ×0.5 for the Spring Festival, October ×0.8,
//!   November/December ×1.2) and the fraction of the month inside the range.
//!   With 4 or more months at least one is empty and one busy. Each
//!   declaration picks a month by weight, then a day in it (Mon–Fri weight 1,
//!   Saturday 0.3, Sunday 0.1). That day is the declaration's `queryDate`.
//! * **Direction** export 55 %, import 45 %. **Type** 一般报关单 80 %,
//!   备案清单 20 %.
//! * **Roles** (`etpsCategory`): {B,C} 62 % (a broker declares), {A,B,C,D}
//!   23 % (the enterprise declares itself), {B} 8 % (a trading company is the
//!   consignee), {C} 4 %, {A,D} 3 % (it declares for an affiliate).
//! * **Fresh declarations**: when `to` is within 2 days of `today`, the last
//!   ⌈n/150⌉ declarations fall on the range's last two days with status
//!   已申报 and no `entryId` yet.
//! * **Status** by age = today − queryDate: P(结关) is 0 for age ≤ 1 day,
//!   5 % ≤ 3, 25 % ≤ 7, 55 % ≤ 14, 80 % ≤ 30, 93 % ≤ 90, 97 % beyond. Not
//!   closed within 2 days: 已申报 (no `entryId`) 40 %, 审结 25 %, 放行 30 %,
//!   查验通知 5 %; older: 放行 75 %, 审结 15 %, 查验通知 10 %.
//! * **Goods lines** 1 (45 %), 2–5 (35 %), 6–20 (17 %), 21–50 (3 %), drawn
//!   from [`crate::catalog::ITEMS`] by direction. Integer quantities, unit
//!   prices in integer cents, `declTotal = gQty × declPrice` exactly.
//! * **Currency** per declaration: the trading country's own currency with
//!   probability 45 % when it has one in the table, otherwise by global
//!   weight (USD 66, CNY 16, EUR 8, JPY 3, HKD 3, GBP 1.5, KRW 1, AUD/CHF 0.5,
//!   SGD 0.3, CAD 0.2). 2 % of multi-line declarations mix two currencies.
//! * **Transport** 一般报关单: sea 35 %, air 30 %, rail 25 %, road 10 %;
//!   备案清单: bonded zone 40 %, road 25 %, air 20 %, rail 15 %.

use std::collections::HashSet;

use crate::catalog::{self, Item, SupvMode};
use crate::config::EnterpriseSpec;
use crate::date::{days_in_month, Date, DateTime};
use crate::model::{
    decimal_from_cents, AttachedDoc, Container, Dataset, DecStatus, DeclKind, Declaration,
    Enterprise, GoodsLine, IeFlag, Receipt, Role,
};
use crate::rng::{hash_str, mix, Rng};

/// Generate the enterprise and `n` declarations with `queryDate` in
/// `[from, to]` (swapped if reversed); `today` decides each one's status.
pub fn generate(seed: u64, n: usize, from: Date, to: Date, today: Date) -> Dataset {
    generate_with(
        seed,
        make_enterprise(seed),
        n,
        from,
        to,
        today,
        &mut Ids::default(),
    )
}

/// [`generate`] for a given enterprise, drawing identifiers unique among `ids` (shared by
/// the enterprises of a [`World`], so no 统一编号 or 报关单号 repeats across them).
pub(crate) fn generate_with(
    seed: u64,
    enterprise: Enterprise,
    n: usize,
    from: Date,
    to: Date,
    today: Date,
    ids: &mut Ids,
) -> Dataset {
    let (from, to) = if from <= to { (from, to) } else { (to, from) };
    let mut date_rng = Rng::derived(seed, "dates");
    let mut dates = draw_dates(&mut date_rng, n, from, to);
    // The freshest declarations: when the range reaches (nearly) today, the
    // last ⌈n/150⌉ fall on its last two days and have no entryId yet, so
    // every realistic dataset has some.
    let fresh = if to.days_until(today) <= 2 && n >= 10 {
        n.div_ceil(150)
    } else {
        0
    };
    for d in dates.iter_mut().rev().take(fresh) {
        *d = to.add_days(-date_rng.range(0, 1)).max(from);
    }
    dates.sort();
    let mut forge = Forge {
        rng: Rng::derived(seed, "declarations"),
        enterprise: &enterprise,
        today,
    };
    let first_fresh = n - fresh;
    let declarations = dates
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let fixed = Fixed {
                status: (i >= first_fresh).then_some(DecStatus::Declared),
                ..Fixed::default()
            };
            forge.declaration(d, fixed, ids)
        })
        .collect();
    Dataset {
        enterprise,
        declarations,
    }
}

/// Every enterprise of a run with its own declarations ([`generate_world`]).
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    /// Per enterprise, in configuration order. `members[0]` is exactly
    /// `generate(seed, n, from, to, today)` unless a broker declares some of its
    /// declarations (then only their `agent*` fields differ).
    pub members: Vec<Dataset>,
    /// Per enterprise: `Some(share)` for a customs broker.
    pub broker_share: Vec<Option<f64>>,
}

/// The seed of extra enterprise `k` (1-based) of a run seeded `seed`.
pub fn enterprise_seed(seed: u64, k: u64) -> u64 {
    mix(seed, k, hash_str("enterprise-k"))
}

/// The enterprises of a run: the first from `(seed, n)` as [`generate`] makes it, then
/// one per `extra` spec from [`enterprise_seed`]; finally each broker becomes the 申报单位
/// of its share of the others' declarations without role `A` ([`World::assign_brokers`]).
pub fn generate_world(
    seed: u64,
    n: usize,
    extra: &[EnterpriseSpec],
    from: Date,
    to: Date,
    today: Date,
) -> World {
    let mut ids = Ids::default();
    let first = generate_with(seed, make_enterprise(seed), n, from, to, today, &mut ids);
    let mut world = World {
        members: vec![first],
        broker_share: vec![None],
    };
    for (i, spec) in extra.iter().enumerate() {
        let sub = enterprise_seed(seed, i as u64 + 1);
        let ent = distinct_enterprise(&world.members, spec, sub);
        let data = generate_with(sub, ent, spec.declarations, from, to, today, &mut ids);
        world.members.push(data);
        world
            .broker_share
            .push(spec.broker.then_some(spec.broker_share));
    }
    world.assign_brokers(seed);
    world
}

impl World {
    /// Whether enterprise `e` is a customs broker.
    pub fn is_broker(&self, e: usize) -> bool {
        self.broker_share.get(e).is_some_and(Option::is_some)
    }

    /// Make every broker the 申报单位 of its share of the others' declarations.
    pub fn assign_brokers(&mut self, seed: u64) {
        if !self.broker_share.iter().any(Option::is_some) {
            return;
        }
        for e in 0..self.members.len() {
            for i in 0..self.members[e].declarations.len() {
                self.assign_broker(seed, e, i);
            }
        }
    }

    /// Decide who declares declaration `i` of enterprise `e`: if `e` does not declare it
    /// itself (no role `A`), one draw `u = unit(mix(seed, hash(cusCiqNo), "broker"))` is laid
    /// over the brokers' shares in order (skipping `e` itself); the broker it falls on
    /// becomes `agentName`/`agentCode`/`agentScc`, otherwise the generated outside broker
    /// stays.
    pub fn assign_broker(&mut self, seed: u64, e: usize, i: usize) {
        let Some(d) = self.members.get(e).and_then(|m| m.declarations.get(i)) else {
            return;
        };
        if d.has_role(Role::A) {
            return;
        }
        let u = crate::rng::unit_from(mix(seed, hash_str(&d.cus_ciq_no), hash_str("broker")));
        let mut edge = 0.0;
        let mut chosen = None;
        for (b, share) in self.broker_share.iter().enumerate() {
            let Some(share) = share else { continue };
            if b == e {
                continue;
            }
            edge += share;
            if u < edge {
                chosen = Some(b);
                break;
            }
        }
        let Some(b) = chosen else { return };
        let broker = self.members[b].enterprise.clone();
        let d = &mut self.members[e].declarations[i];
        d.agent_name = broker.name;
        d.agent_code = broker.customs_code;
        d.agent_scc = broker.scc;
    }
}

/// An enterprise for `spec` whose name, codes and card differ from every earlier one.
fn distinct_enterprise(earlier: &[Dataset], spec: &EnterpriseSpec, seed: u64) -> Enterprise {
    let clash = |e: &Enterprise| {
        earlier.iter().any(|m| {
            let o = &m.enterprise;
            o.name == e.name
                || o.scc == e.scc
                || o.customs_code == e.customs_code
                || o.card_no == e.card_no
        })
    };
    let mut attempt = 0u64;
    let mut ent = loop {
        let s = if attempt == 0 {
            seed
        } else {
            mix(seed, attempt, hash_str("enterprise-retry"))
        };
        let ent = if spec.broker {
            make_broker(s)
        } else {
            make_enterprise(s)
        };
        if !clash(&ent) || attempt >= 64 {
            break ent;
        }
        attempt += 1;
    };
    if let Some(name) = &spec.name {
        ent.name = name.clone();
    }
    if let Some(scc) = &spec.scc {
        ent.scc = scc.clone();
    }
    if let Some(code) = &spec.customs_code {
        ent.customs_code = code.clone();
    }
    ent
}

/// A synthetic customs broker (报关企业) for `seed`.
// GUESS: brokers' customs codes have "98" in digits 5–6, as the catalog's brokers
// (portal-api.md does not describe the 海关编码's structure).
pub fn make_broker(seed: u64) -> Enterprise {
    let mut r = Rng::derived(seed, "broker");
    let name = format!(
        "{}{}{}",
        r.pick(catalog::CITIES),
        r.pick(catalog::BRANDS),
        r.pick(&["报关有限公司", "国际货运代理有限公司", "通关服务有限公司"])
    );
    let scc = make_scc(&mut r, "610131");
    let customs_code = format!("610198{}", r.digits(4));
    let user_name = format!(
        "{}{}",
        r.pick(catalog::SURNAMES),
        r.pick(catalog::GIVEN_NAMES)
    );
    let card_no = format!("89000{}", r.digits(8));
    Enterprise {
        name,
        scc,
        customs_code,
        user_name,
        card_no,
    }
}

/// The synthetic enterprise for `seed`.
pub fn make_enterprise(seed: u64) -> Enterprise {
    let mut r = Rng::derived(seed, "enterprise");
    let name = format!(
        "{}{}{}{}",
        r.pick(catalog::CITIES),
        r.pick(catalog::BRANDS),
        r.pick(catalog::INDUSTRIES),
        if r.chance(0.3) {
            "股份有限公司"
        } else {
            "有限公司"
        }
    );
    let scc = make_scc(&mut r, "610131");
    let customs_code = format!("610136{}", r.digits(4));
    let user_name = format!(
        "{}{}",
        r.pick(catalog::SURNAMES),
        r.pick(catalog::GIVEN_NAMES)
    );
    let card_no = format!("89000{}", r.digits(8));
    Enterprise {
        name,
        scc,
        customs_code,
        user_name,
        card_no,
    }
}

/// A 统一社会信用代码 (GB 32100) for an enterprise registered in `region`
/// (6 digits), with a valid organisation-code check (GB 11714) and final
/// check character.
pub fn make_scc(r: &mut Rng, region: &str) -> String {
    let org8 = r.digits(8);
    let org = format!("{org8}{}", org_code_check(&org8));
    let body = format!("91{region}{org}");
    format!("{body}{}", scc_check(&body).unwrap_or('0'))
}

/// GB 11714 check character for 8 organisation-code characters.
pub fn org_code_check(first8: &str) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first8
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(36).unwrap_or(0) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        v => char::from_digit(v, 10).unwrap_or('0'),
    }
}

/// GB 32100 check character for the first 17 characters, `None` if a
/// character is outside the code's alphabet.
pub fn scc_check(first17: &str) -> Option<char> {
    const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut sum = 0;
    for (c, w) in first17.chars().zip(W) {
        sum += CHARSET.find(c)? as u32 * w;
    }
    let v = (31 - sum % 31) % 31;
    CHARSET.chars().nth(v as usize)
}

/// ISO 6346 check digit for a 10-character owner+serial prefix.
pub fn container_check_digit(prefix10: &str) -> u32 {
    let value = |c: char| -> u32 {
        if let Some(d) = c.to_digit(10) {
            return d;
        }
        // A=10, skipping multiples of 11.
        let mut v = 10;
        let mut letter = 'A';
        while letter != c && letter < 'Z' {
            letter = char::from_u32(letter as u32 + 1).unwrap_or('Z');
            v += 1;
            if v % 11 == 0 {
                v += 1;
            }
        }
        v
    };
    let sum: u32 = prefix10
        .chars()
        .enumerate()
        .map(|(i, c)| value(c) << i)
        .sum();
    (sum % 11) % 10
}

/// Draw `n` declaration days in `[from, to]`, sorted.
fn draw_dates(r: &mut Rng, n: usize, from: Date, to: Date) -> Vec<Date> {
    let mut months: Vec<(Date, Date)> = Vec::new(); // (first day in range, last day in range)
    let mut m = from.first_of_month();
    while m <= to {
        let next = m.first_of_next_month();
        months.push((m.max(from), next.add_days(-1).min(to)));
        m = next;
    }
    let mut kinds: Vec<u8> = months
        .iter()
        .map(|_| {
            let u = r.unit();
            if u < 0.12 {
                0 // empty
            } else if u < 0.30 {
                2 // busy
            } else {
                1
            }
        })
        .collect();
    if months.len() >= 4 {
        // Guarantee both extremes exist, away from the range's edges.
        let inner = months.len() - 2;
        if !kinds.contains(&0) {
            let i = 1 + r.below(inner as u64) as usize;
            kinds[i] = 0;
        }
        if !kinds.contains(&2) {
            let candidates: Vec<usize> = (1..=inner).filter(|i| kinds[*i] != 0).collect();
            if !candidates.is_empty() {
                kinds[*r.pick(&candidates)] = 2;
            }
        }
    }
    let weights: Vec<f64> = months
        .iter()
        .zip(&kinds)
        .map(|((a, b), k)| {
            let (y, mo, _) = a.ymd();
            let season = match mo {
                2 => 0.5,
                10 => 0.8,
                11 | 12 => 1.2,
                _ => 1.0,
            };
            let coverage = (a.days_until(*b) + 1) as f64 / f64::from(days_in_month(y, mo));
            let kind = match k {
                0 => 0.0,
                2 => 3.0,
                _ => 1.0,
            };
            kind * season * coverage
        })
        .collect();
    let all_empty = weights.iter().all(|w| *w <= 0.0);
    let mut dates: Vec<Date> = (0..n)
        .map(|_| {
            let (a, b) = if all_empty {
                (from, to)
            } else {
                months[r.weighted(&weights)]
            };
            let days: Vec<Date> = (0..=a.days_until(b)).map(|i| a.add_days(i)).collect();
            let dw: Vec<f64> = days
                .iter()
                .map(|d| match d.weekday() {
                    5 => 0.3,
                    6 => 0.1,
                    _ => 1.0,
                })
                .collect();
            days[r.weighted(&dw)]
        })
        .collect();
    dates.sort();
    dates
}

/// Identifiers already used (统一编号, 报关单号), to keep them unique.
#[derive(Default, Debug, Clone)]
pub(crate) struct Ids {
    pub ciq: HashSet<String>,
    pub entry: HashSet<String>,
}

impl Ids {
    /// The ids of an existing set of declarations.
    pub fn of(decls: &[Declaration]) -> Ids {
        let mut ids = Ids::default();
        for d in decls {
            ids.ciq.insert(d.cus_ciq_no.clone());
            if let Some(e) = &d.entry_id {
                ids.entry.insert(e.clone());
            }
        }
        ids
    }
}

/// Attributes forced on a generated declaration (for the `shift` fault,
/// which inserts declarations that match the query being answered).
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct Fixed {
    pub ie: Option<IeFlag>,
    pub kind: Option<DeclKind>,
    pub role: Option<Role>,
    pub status: Option<DecStatus>,
    /// Declared at this time (instead of a draw on the day).
    pub declared_at: Option<DateTime>,
}

pub(crate) struct Forge<'a> {
    pub rng: Rng,
    pub enterprise: &'a Enterprise,
    pub today: Date,
}

fn closed_probability(age: i64) -> f64 {
    match age {
        i64::MIN..=1 => 0.0,
        2..=3 => 0.05,
        4..=7 => 0.25,
        8..=14 => 0.55,
        15..=30 => 0.80,
        31..=90 => 0.93,
        _ => 0.97,
    }
}

fn party_scc(name: &str) -> String {
    make_scc(&mut Rng::new(hash_str(name)), "610100")
}

impl Forge<'_> {
    fn status(&mut self, age: i64) -> DecStatus {
        let r = &mut self.rng;
        if r.chance(closed_probability(age)) {
            return DecStatus::Closed;
        }
        if age <= 2 {
            match r.weighted(&[40.0, 25.0, 30.0, 5.0]) {
                0 => DecStatus::Declared,
                1 => DecStatus::Checked,
                2 => DecStatus::Released,
                _ => DecStatus::Inspection,
            }
        } else {
            match r.weighted(&[75.0, 15.0, 10.0]) {
                0 => DecStatus::Released,
                1 => DecStatus::Checked,
                _ => DecStatus::Inspection,
            }
        }
    }

    fn roles(&mut self) -> Vec<Role> {
        match self.rng.weighted(&[62.0, 23.0, 8.0, 4.0, 3.0]) {
            0 => vec![Role::B, Role::C],
            1 => vec![Role::A, Role::B, Role::C, Role::D],
            2 => vec![Role::B],
            3 => vec![Role::C],
            _ => vec![Role::A, Role::D],
        }
    }

    fn roles_with(&mut self, role: Role) -> Vec<Role> {
        loop {
            let roles = self.roles();
            if roles.contains(&role) {
                return roles;
            }
        }
    }

    fn supv_mode(&mut self, kind: DeclKind, import: bool) -> &'static SupvMode {
        let filing = kind == DeclKind::Filing;
        let modes: Vec<&'static SupvMode> = catalog::SUPV_MODES
            .iter()
            .filter(|m| m.filing == filing && m.dir.allows(import))
            .collect();
        let w: Vec<f64> = modes.iter().map(|m| m.weight).collect();
        modes[self.rng.weighted(&w)]
    }

    fn country(&mut self, import: bool) -> &'static catalog::Country {
        let w: Vec<f64> = catalog::COUNTRIES
            .iter()
            .map(|c| {
                if import {
                    c.import_weight
                } else {
                    c.export_weight
                }
            })
            .collect();
        &catalog::COUNTRIES[self.rng.weighted(&w)]
    }

    fn global_currency(&mut self) -> &'static catalog::Currency {
        let w: Vec<f64> = catalog::CURRENCIES.iter().map(|c| c.weight).collect();
        &catalog::CURRENCIES[self.rng.weighted(&w)]
    }

    fn currency(&mut self, country: &catalog::Country) -> &'static catalog::Currency {
        if let Some(local) = country.local_currency.and_then(catalog::currency) {
            if self.rng.chance(0.45) {
                return local;
            }
        }
        self.global_currency()
    }

    fn item(&mut self, import: bool) -> &'static Item {
        let items: Vec<&'static Item> = catalog::ITEMS
            .iter()
            .filter(|i| i.dir.allows(import))
            .collect();
        let w: Vec<f64> = items.iter().map(|i| i.weight).collect();
        items[self.rng.weighted(&w)]
    }

    fn unique(
        &mut self,
        set: &mut HashSet<String>,
        mut make: impl FnMut(&mut Rng) -> String,
    ) -> String {
        loop {
            let id = make(&mut self.rng);
            if set.insert(id.clone()) {
                return id;
            }
        }
    }

    /// One declaration dated `date` (its `queryDate`).
    pub fn declaration(&mut self, date: Date, fixed: Fixed, ids: &mut Ids) -> Declaration {
        let ent = self.enterprise;
        let ie = fixed.ie.unwrap_or_else(|| {
            if self.rng.chance(0.55) {
                IeFlag::E
            } else {
                IeFlag::I
            }
        });
        let import = ie == IeFlag::I;
        let kind = fixed.kind.unwrap_or_else(|| {
            if self.rng.chance(0.8) {
                DeclKind::General
            } else {
                DeclKind::Filing
            }
        });
        let roles = match fixed.role {
            Some(role) => self.roles_with(role),
            None => self.roles(),
        };
        let age = date.days_until(self.today).max(0);
        let status = fixed.status.unwrap_or_else(|| self.status(age));
        let supv = self.supv_mode(kind, import);
        let country = self.country(import);
        let curr = self.currency(country);
        let year = date.year();

        // Transport, office and ports.
        let traf = if kind == DeclKind::Filing {
            match self.rng.weighted(&[40.0, 25.0, 20.0, 15.0]) {
                0 => catalog::TRAF_ZONE,
                1 => catalog::TRAF_ROAD,
                2 => catalog::TRAF_AIR,
                _ => catalog::TRAF_RAIL,
            }
        } else {
            match self.rng.weighted(&[35.0, 30.0, 25.0, 10.0]) {
                0 => catalog::TRAF_SEA,
                1 => catalog::TRAF_AIR,
                2 => catalog::TRAF_RAIL,
                _ => catalog::TRAF_ROAD,
            }
        };
        let office_w: Vec<f64> = catalog::CUSTOMS_OFFICES.iter().map(|o| o.2).collect();
        let any_office = catalog::CUSTOMS_OFFICES[self.rng.weighted(&office_w)];
        let office = |code: &str| {
            catalog::CUSTOMS_OFFICES
                .iter()
                .find(|o| o.0 == code)
                .copied()
                .unwrap_or(any_office)
        };
        let (master, ie_port, port) = match traf.0 {
            "5" => {
                let m = if self.rng.chance(0.8) {
                    office("9002")
                } else {
                    any_office
                };
                (m, office("9002"), catalog::PORT_AIR)
            }
            "3" => {
                let m = if self.rng.chance(0.7) {
                    office("9013")
                } else {
                    any_office
                };
                (m, office("9013"), catalog::PORT_RAIL)
            }
            "2" => {
                let sp = *self.rng.pick(catalog::SEA_PORTS);
                (any_office, (sp.2, sp.3, 0.0), (sp.0, sp.1))
            }
            "Y" => (office("9006"), office("9006"), catalog::PORT_ZONE),
            _ => (any_office, office("9003"), catalog::PORT_ROAD),
        };

        let yy = year.rem_euclid(100);
        let (bill_no, traf_name) = match traf.0 {
            "2" => (
                format!(
                    "{}{}",
                    self.rng.pick(catalog::SEA_CARRIERS),
                    self.rng.digits(10)
                ),
                format!(
                    "{}/0{}{}",
                    self.rng.pick(catalog::VESSELS),
                    self.rng.digits(2),
                    if import { "E" } else { "W" }
                ),
            ),
            "5" => {
                let (prefix, iata) = *self.rng.pick(catalog::AIRLINES);
                let serial = self.rng.range(1_000_000, 9_999_999);
                (
                    format!("{prefix}-{serial}{}", serial % 7),
                    format!("{iata}{}", self.rng.range(1000, 9999)),
                )
            }
            "3" => (
                format!("XACR{yy:02}{}", self.rng.digits(7)),
                format!("X{}", self.rng.range(8001, 8099)),
            ),
            "4" => (
                format!("XAR{}", self.rng.digits(10)),
                format!("陕A{}", self.rng.digits(5)),
            ),
            _ => {
                let bill = if self.rng.chance(0.6) {
                    String::new()
                } else {
                    format!("XAZ{}", self.rng.digits(10))
                };
                (bill, String::new())
            }
        };

        // Parties.
        let broker = *self.rng.pick(catalog::BROKERS);
        let partner = *self.rng.pick(catalog::DOMESTIC_PARTNERS);
        let me = (ent.name.clone(), ent.customs_code.clone(), ent.scc.clone());
        let other = |p: (&str, &str)| (p.0.to_string(), p.1.to_string(), party_scc(p.0));
        let has = |r: Role| roles.contains(&r);
        let domestic = if has(Role::C) {
            me.clone()
        } else {
            other(partner)
        };
        let owner = if has(Role::B) {
            me.clone()
        } else {
            other(partner)
        };
        let agent = if has(Role::A) {
            me.clone()
        } else {
            other(broker)
        };
        let overseas = self.rng.pick(catalog::OVERSEAS).to_string();

        // Goods.
        let n_lines = match self.rng.weighted(&[45.0, 35.0, 17.0, 3.0]) {
            0 => 1,
            1 => self.rng.range(2, 5),
            2 => self.rng.range(6, 20),
            _ => self.rng.range(21, 50),
        };
        let mixed = n_lines > 1 && self.rng.chance(0.02);
        let second_curr = if mixed {
            let mut c = self.global_currency();
            while c.code == curr.code {
                c = self.global_currency();
            }
            c
        } else {
            curr
        };
        let mut gross_tenths: i64 = 0;
        let mut goods = Vec::with_capacity(n_lines as usize);
        for i in 0..n_lines {
            let item = self.item(import);
            let c = if mixed && i % 2 == 1 {
                second_curr
            } else {
                curr
            };
            let qty = self.rng.range(item.qty.0, item.qty.1);
            let usd = self.rng.range(item.usd_cents.0, item.usd_cents.1);
            let price = (usd * c.per_usd_milli / 1000).max(1);
            let total = qty * price;
            gross_tenths += (qty * item.grams_per_unit / 100).max(1);
            let brand = *self.rng.pick(item.brands);
            let brand_type = if brand == "无品牌" { "0" } else { "1" };
            let model = format!(
                "{}{}-{}",
                char::from(b'A' + self.rng.below(26) as u8),
                char::from(b'A' + self.rng.below(26) as u8),
                self.rng.digits(3)
            );
            let pref = if import { "" } else { "0|" };
            let (origin, dest) = if import {
                (country.code.to_string(), "CHN".to_string())
            } else {
                ("CHN".to_string(), country.code.to_string())
            };
            goods.push(GoodsLine {
                g_no: (i + 1).to_string(),
                code_ts: item.code_ts.to_string(),
                g_name: item.name.to_string(),
                g_model: format!("{brand_type}|{pref}{brand}|{model}"),
                g_qty: qty.to_string(),
                g_unit: item.unit.0.to_string(),
                g_unit_name: item.unit.1.to_string(),
                qty1: qty.to_string(),
                unit1: item.unit.0.to_string(),
                decl_price: decimal_from_cents(price),
                decl_total: decimal_from_cents(total),
                trade_curr: c.code.to_string(),
                trade_curr_name: c.name.to_string(),
                cus_origin_country: origin,
                destination_country: dest,
                duty_mode: supv.duty_mode.0.to_string(),
                duty_mode_name: supv.duty_mode.1.to_string(),
            });
        }
        let net_tenths = (gross_tenths * 9 / 10).max(1);
        let tenths = |t: i64| format!("{}.{}", t / 10, t % 10);
        let containers: Vec<Container> = if traf.0 == "2" {
            let count = (gross_tenths / 10 / 20_000 + 1).clamp(1, 8);
            (0..count)
                .map(|_| {
                    let prefix = format!(
                        "{}{}",
                        self.rng.pick(catalog::CONTAINER_OWNERS),
                        self.rng.digits(6)
                    );
                    let big = self.rng.chance(0.6);
                    Container {
                        container_id: format!("{prefix}{}", container_check_digit(&prefix)),
                        container_md: if big { "45G1" } else { "22G1" }.to_string(),
                        container_wt: if big { "3900" } else { "2200" }.to_string(),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };

        // Identity.
        let flag_digit = if import { "1" } else { "0" };
        // GUESS: the 13 digits after the year as "0000" + 9 (portal-api.md §2 sample I20190000224038701).
        let cus_ciq_no = self.unique(&mut ids.ciq, |r| {
            format!("{}{year}0000{}", ie.code(), r.digits(9))
        });
        let entry_id = if status == DecStatus::Declared {
            None
        } else {
            Some(self.unique(&mut ids.entry, |r| {
                format!("{}{year}{flag_digit}{}", master.0, r.digits(9))
            }))
        };
        let pre_entry_id = format!("{}{year}{}", master.0, self.rng.digits(10));

        // Times and receipts.
        let declared = fixed
            .declared_at
            .unwrap_or_else(|| date.at(8, 0, 0).add_secs(self.rng.range(0, 11 * 3600)));
        // Not yet stored by customs: the portal's own record time is the declaration time.
        let stored_after = self.rng.range(5, 600);
        let indb = if status == DecStatus::Declared {
            declared
        } else {
            declared.add_secs(stored_after)
        };
        let cap = self.today.at(23, 59, 59).max(indb.add_secs(60));
        let mut steps: Vec<(&str, String)> = vec![(catalog::CH_DECLARED, "申报成功".to_string())];
        if status != DecStatus::Declared {
            steps.push((catalog::CH_STORED, "报关单已入库".to_string()));
        }
        match status {
            DecStatus::Declared => {}
            DecStatus::Checked => steps.push((catalog::CH_CHECKED, "审结通过".into())),
            DecStatus::Inspection => {
                steps.push((catalog::CH_CHECKED, "审结通过".into()));
                steps.push((catalog::CH_INSPECT, "请联系海关办理查验手续".into()));
            }
            DecStatus::Released => {
                steps.push((catalog::CH_CHECKED, "审结通过".into()));
                steps.push((catalog::CH_RELEASED, "已放行".into()));
            }
            DecStatus::Closed => {
                steps.push((catalog::CH_CHECKED, "审结通过".into()));
                steps.push((catalog::CH_RELEASED, "已放行".into()));
                steps.push((catalog::CH_CLOSED, "已结关".into()));
            }
        }
        let mut times = vec![declared];
        let mut t = indb;
        for (i, (ch, _)) in steps.iter().enumerate().skip(1) {
            let raw = match *ch {
                c if c == catalog::CH_STORED => indb,
                c if c == catalog::CH_CHECKED => t.add_secs(self.rng.range(60, 6 * 3600)),
                c if c == catalog::CH_INSPECT => t.add_secs(self.rng.range(600, 86_400)),
                c if c == catalog::CH_RELEASED => t.add_secs(self.rng.range(600, 2 * 86_400)),
                _ => t.add_secs(self.rng.range(86_400, 30 * 86_400)),
            };
            let left = (steps.len() - 1 - i) as i64;
            let prev = *times.last().unwrap_or(&declared);
            t = raw.min(cap.add_secs(-left)).max(prev.add_secs(1));
            times.push(t);
        }
        let update_time = *times.last().unwrap_or(&indb);
        let has_chktst = status == DecStatus::Inspection || self.rng.chance(0.04);
        let receipts: Vec<Receipt> = steps
            .iter()
            .zip(&times)
            .enumerate()
            .map(|(i, ((ch, note), when))| {
                let assigned = i >= 1 && entry_id.is_some();
                Receipt {
                    seq: (i + 1).to_string(),
                    cus_ret_seq_no: format!("{}{}", when.date().compact(), self.rng.digits(10)),
                    notice_date: when.to_string(),
                    channel_name: (*ch).to_string(),
                    note: if assigned && *ch == catalog::CH_STORED {
                        format!("{note}，海关编号{}", entry_id.as_deref().unwrap_or(""))
                    } else {
                        note.clone()
                    },
                    entry_id: if assigned { entry_id.clone() } else { None },
                }
            })
            .collect();

        let n_docs = self.rng.range(1, 3) as usize;
        let docs = catalog::DOC_TYPES
            .iter()
            .take(n_docs)
            .enumerate()
            .map(|(i, (code, name))| AttachedDoc {
                att_edoc_id: format!("{}{:02}", self.rng.digits(16), i + 1),
                att_edoc_no: format!("{}{}", code, self.rng.digits(6)),
                att_type_code: (*code).to_string(),
                ent_orig_file_name: format!("{name}.pdf"),
                att_seq_no: (i + 1).to_string(),
            })
            .collect();

        let ie_date = if import {
            date.add_days(-self.rng.range(0, 4))
        } else {
            date.add_days(self.rng.range(0, 2))
        };
        let trans_w: Vec<f64> = catalog::TRANS_MODES.iter().map(|m| m.2).collect();
        let trans = catalog::TRANS_MODES[self.rng.weighted(&trans_w)];
        let manual_no = supv
            .manual
            .map(|c| format!("{c}{}{yy:02}{}", master.0, self.rng.digits(5)))
            .unwrap_or_default();
        let contr_no = format!("HT{year}{}", self.rng.digits(5));
        let pack_no = self.rng.range(1, 400);

        Declaration {
            cus_ciq_no,
            entry_id,
            pre_entry_id,
            cus_i_e_flag: ie,
            dcl_trn_rel_flag: kind,
            cus_dec_status: status,
            cus_dec_status_name: status.name().to_string(),
            etps_category: roles,
            query_date: declared.date(),
            d_date: declared.to_string(),
            i_e_date: ie_date.compact(),
            indb_time: indb.to_string(),
            update_time: update_time.to_string(),
            supv_mode_cdde: supv.code.to_string(),
            supv_mode_cdde_name: supv.name.to_string(),
            cut_mode: supv.cut_mode.0.to_string(),
            cut_mode_name: supv.cut_mode.1.to_string(),
            trans_mode: trans.0.to_string(),
            trans_mode_name: trans.1.to_string(),
            custom_master: master.0.to_string(),
            custom_master_name: master.1.to_string(),
            i_e_port: ie_port.0.to_string(),
            i_e_port_name: ie_port.1.to_string(),
            ciq_enty_port_code: port.0.to_string(),
            ciq_enty_port_code_name: port.1.to_string(),
            cus_traf_mode: traf.0.to_string(),
            cus_traf_mode_name: traf.1.to_string(),
            traf_name,
            bill_no,
            contr_no,
            manual_no,
            cus_trade_nation_code: country.code.to_string(),
            cus_trade_nation_code_name: country.name.to_string(),
            cus_trade_country: country.code.to_string(),
            gross_wt: tenths(gross_tenths),
            net_wt: tenths(net_tenths),
            pack_no: pack_no.to_string(),
            conta_count: containers.len().to_string(),
            chktst_flag: if has_chktst { "1" } else { "0" }.to_string(),
            agent_name: agent.0,
            agent_code: agent.1,
            agent_scc: agent.2,
            owner_name: owner.0,
            owner_code: owner.1,
            owner_scc: owner.2,
            domestic_name: domestic.0,
            domestic_code: domestic.1,
            domestic_scc: domestic.2,
            overseas_name: overseas,
            goods,
            docs,
            containers,
            receipts,
        }
    }
}

/// A keyed generator for run-time changes (the `shift` fault), independent
/// of the initial data's draws.
pub(crate) fn event_rng(seed: u64, event: u64) -> Rng {
    Rng::new(mix(seed, hash_str("shift-event"), event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn check_characters() {
        // Published example: 91350100M000100Y43.
        assert_eq!(scc_check("91350100M000100Y4"), Some('3'));
        // GB 11714 example: D2143569-X.
        assert_eq!(org_code_check("D2143569"), 'X');
        // ISO 6346 example: CSQU3054383.
        assert_eq!(container_check_digit("CSQU305438"), 3);
        let mut r = Rng::new(5);
        for _ in 0..50 {
            let scc = make_scc(&mut r, "610131");
            assert_eq!(scc.len(), 18);
            assert_eq!(scc_check(&scc[..17]), scc.chars().nth(17));
        }
    }

    #[test]
    fn same_arguments_same_data() {
        let a = generate(7, 120, d("2024-01-01"), d("2024-12-31"), d("2025-01-10"));
        let b = generate(7, 120, d("2024-01-01"), d("2024-12-31"), d("2025-01-10"));
        assert_eq!(
            serde_json::to_vec(&a).unwrap(),
            serde_json::to_vec(&b).unwrap()
        );
        let c = generate(8, 120, d("2024-01-01"), d("2024-12-31"), d("2025-01-10"));
        assert_ne!(a.declarations, c.declarations);
        assert_ne!(a.enterprise, c.enterprise);
    }

    #[test]
    fn a_world_keeps_the_first_enterprise_and_shares_out_the_brokers() {
        let (from, to, today) = (d("2025-01-01"), d("2025-06-30"), d("2025-06-30"));
        let single = generate(5, 150, from, to, today);
        let clients = [EnterpriseSpec::client("2", 80)];
        let w = generate_world(5, 150, &clients, from, to, today);
        assert_eq!(
            w.members[0], single,
            "no broker: the first enterprise is untouched"
        );
        assert_eq!(w.members[1].declarations.len(), 80);
        assert_ne!(w.members[1].enterprise.scc, single.enterprise.scc);
        assert_eq!(w, generate_world(5, 150, &clients, from, to, today));

        let specs = [
            EnterpriseSpec::client("2", 80),
            EnterpriseSpec::broker("3", 0.5),
        ];
        let w = generate_world(5, 150, &specs, from, to, today);
        assert!(w.is_broker(2) && !w.is_broker(0) && !w.is_broker(1));
        let broker = &w.members[2].enterprise;
        assert!(broker.customs_code.starts_with("610198"));
        assert_eq!(broker.customs_code.len(), 10);
        assert!(w.members[2].declarations.is_empty());
        let mut ciq = HashSet::new();
        for (e, m) in w.members.iter().take(2).enumerate() {
            let mine = |x: &Declaration| x.agent_scc == broker.scc;
            let without_a: Vec<_> = m
                .declarations
                .iter()
                .filter(|x| !x.has_role(Role::A))
                .collect();
            let declared = without_a.iter().filter(|x| mine(x)).count();
            assert!(
                declared * 4 > without_a.len() && declared * 4 < without_a.len() * 3,
                "enterprise {e}: broker declared {declared} of {}",
                without_a.len()
            );
            for x in &m.declarations {
                assert!(
                    ciq.insert(x.cus_ciq_no.clone()),
                    "unique across enterprises"
                );
                if x.has_role(Role::A) {
                    assert_eq!(x.agent_scc, m.enterprise.scc);
                }
                if mine(x) {
                    assert_eq!(
                        (x.agent_name.as_str(), x.agent_code.as_str()),
                        (broker.name.as_str(), broker.customs_code.as_str())
                    );
                }
            }
        }
        // Only the agent fields of the first enterprise's declarations changed.
        for (a, b) in w.members[0].declarations.iter().zip(&single.declarations) {
            let mut a = a.clone();
            a.agent_name.clone_from(&b.agent_name);
            a.agent_code.clone_from(&b.agent_code);
            a.agent_scc.clone_from(&b.agent_scc);
            assert_eq!(&a, b);
        }
        let named = EnterpriseSpec {
            name: Some("西安测试贸易有限公司".into()),
            scc: Some("91610131MA6TEST001".into()),
            customs_code: Some("6101360001".into()),
            ..EnterpriseSpec::client("2", 3)
        };
        let w = generate_world(5, 10, &[named], from, to, today);
        let e = &w.members[1].enterprise;
        assert_eq!(
            (e.name.as_str(), e.scc.as_str(), e.customs_code.as_str()),
            ("西安测试贸易有限公司", "91610131MA6TEST001", "6101360001")
        );
        assert!(w.members[1]
            .declarations
            .iter()
            .all(|x| x.domestic_scc == e.scc || !x.has_role(Role::C)));
    }

    #[test]
    fn invariants_hold() {
        let today = d("2026-05-25");
        let data = generate(42, 700, today.minus_years(3), today, today);
        assert_eq!(data.declarations.len(), 700);
        let mut seen = HashSet::new();
        for x in &data.declarations {
            assert!(seen.insert(x.cus_ciq_no.clone()));
            assert_eq!(x.cus_ciq_no.len(), 18);
            assert!(x.cus_ciq_no.starts_with(x.cus_i_e_flag.code()));
            assert!(x.query_date >= today.minus_years(3) && x.query_date <= today);
            assert_eq!(
                x.entry_id.is_none(),
                x.cus_dec_status == DecStatus::Declared
            );
            if let Some(e) = &x.entry_id {
                assert_eq!(e.len(), 18);
                assert!(e.bytes().all(|b| b.is_ascii_digit()));
            }
            assert!(x.update_time >= x.indb_time, "{}", x.cus_ciq_no);
            assert!(x.indb_time >= x.d_date);
            assert!(x.d_date.starts_with(&x.query_date.to_string()));
            assert!(x.update_time <= today.at(23, 59, 59).to_string());
            assert_eq!(x.receipts.last().unwrap().notice_date, x.update_time);
            assert!(!x.etps_category.is_empty());
            assert!(!x.goods.is_empty());
            for g in &x.goods {
                assert_eq!(g.code_ts.len(), 10);
                let qty: i64 = g.g_qty.parse().unwrap();
                let price = crate::model::cents_from_decimal(&g.decl_price).unwrap();
                let total = crate::model::cents_from_decimal(&g.decl_total).unwrap();
                assert_eq!(qty * price, total);
            }
        }
        let v = serde_json::to_value(&data.declarations[0]).unwrap();
        for key in [
            "cusCiqNo",
            "cusIEFlag",
            "iEDate",
            "dDate",
            "iEPort",
            "dclTrnRelFlag",
            "queryDate",
            "etpsCategory",
            "supvModeCdde",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
    }
}
