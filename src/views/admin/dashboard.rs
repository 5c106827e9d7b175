//! Admin console pages: dashboard.

mod chart;

use askama::Template;

pub use chart::{Bar, Chart, Legend, Series, Tick};

use super::Chrome;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    pub cards: Vec<Card>,
    pub charts: Vec<Chart>,
}

/// One number at the top of the dashboard.
pub struct Card {
    pub label: &'static str,
    pub value: i64,
    /// Where the number is explained in detail, if anywhere.
    pub href: Option<&'static str>,
}
