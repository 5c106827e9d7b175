//! A bar chart as inline SVG, drawn on the server: no script, so it shows under the strict
//! CSP and prints. Geometry is computed here so the template only places elements.

/// One series of daily values, e.g. sign-ins.
pub struct Series {
    /// `series-a` or `series-b` (colours in `admin.css`).
    pub class: &'static str,
    /// For the legend and the hover text, e.g. "sign-ins".
    pub label: &'static str,
    /// `(YYYY-MM-DD, value)`, oldest first; every series of a chart has the same days.
    pub points: Vec<(String, i64)>,
}

pub struct Chart {
    pub title: String,
    /// Width and height of the viewBox.
    pub width: u32,
    pub height: u32,
    /// The plot area's left, right, top and bottom edges, for the axes.
    pub left: u32,
    pub right: u32,
    pub top: u32,
    pub bottom: u32,
    pub bars: Vec<Bar>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub legend: Vec<Legend>,
}

/// One bar: `data-day` and `data-value` let a reader (or a test) find the numbers.
pub struct Bar {
    pub class: &'static str,
    pub series: &'static str,
    pub day: String,
    pub value: i64,
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    /// The hover text.
    pub title: String,
}

/// An axis label at `pos` (x for the day axis, y for the value axis).
pub struct Tick {
    pub pos: String,
    pub label: String,
}

pub struct Legend {
    pub class: &'static str,
    pub label: &'static str,
    pub x: u32,
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 240;
const LEFT: u32 = 40;
const RIGHT: u32 = 710;
const TOP: u32 = 28;
const BOTTOM: u32 = 215;

impl Chart {
    /// Grouped bars, one group per day, with a value axis from 0 to a round maximum.
    pub fn bars(title: &str, series: Vec<Series>) -> Chart {
        let days = series.first().map_or(0, |s| s.points.len()).max(1);
        let max = series
            .iter()
            .flat_map(|s| s.points.iter().map(|(_, v)| *v))
            .max()
            .unwrap_or(0);
        let top_value = nice_ceiling(max);
        let plot_h = f64::from(BOTTOM - TOP);
        let slot = f64::from(RIGHT - LEFT) / days as f64;
        // Bars fill 70% of a day's slot, shared by the series; the rest separates days.
        let bar_w = slot * 0.7 / series.len().max(1) as f64;
        let mut bars = Vec::new();
        for (s_index, s) in series.iter().enumerate() {
            for (d_index, (day, value)) in s.points.iter().enumerate() {
                let h = plot_h * (*value as f64) / (top_value as f64);
                let x = f64::from(LEFT) + slot * d_index as f64 + slot * 0.15 + bar_w * s_index as f64;
                bars.push(Bar {
                    class: s.class,
                    series: s.label,
                    day: day.clone(),
                    value: *value,
                    x: format!("{x:.1}"),
                    y: format!("{:.1}", f64::from(BOTTOM) - h),
                    w: format!("{bar_w:.1}"),
                    h: format!("{h:.1}"),
                    title: format!("{day}: {value} {}", s.label),
                });
            }
        }
        let y_ticks = [0, top_value / 2, top_value]
            .iter()
            .filter(|v| **v > 0 || top_value > 0)
            .map(|v| Tick {
                pos: format!("{:.1}", f64::from(BOTTOM) - plot_h * (*v as f64) / (top_value as f64)),
                label: v.to_string(),
            })
            .collect();
        // A label every 7 days, counted back from the last (today), as MM-DD.
        let x_ticks = series
            .first()
            .map(|s| {
                let n = s.points.len();
                s.points
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (n - 1 - i) % 7 == 0)
                    .map(|(i, (day, _))| Tick {
                        pos: format!("{:.1}", f64::from(LEFT) + slot * (i as f64 + 0.5)),
                        label: day.get(5..).unwrap_or(day).to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let legend = series
            .iter()
            .enumerate()
            .map(|(i, s)| Legend {
                class: s.class,
                label: s.label,
                x: LEFT + 120 * i as u32,
            })
            .collect();
        Chart {
            title: title.to_owned(),
            width: WIDTH,
            height: HEIGHT,
            left: LEFT,
            right: RIGHT,
            top: TOP,
            bottom: BOTTOM,
            bars,
            y_ticks,
            x_ticks,
            legend,
        }
    }
}

/// The smallest 1, 2, 4, 6 or 8 times a power of ten at or above `max`, at least 2: every
/// such maximum is even, so the middle tick is a whole number (5 would label 2.5 as "2").
fn nice_ceiling(max: i64) -> i64 {
    let target = max.max(2);
    let mut step = 1i64;
    while let Some(next) = step.checked_mul(10) {
        for m in [1, 2, 4, 6, 8] {
            if let Some(v) = step.checked_mul(m)
                && v >= target
            {
                return v;
            }
        }
        step = next;
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_maxima() {
        assert_eq!(nice_ceiling(0), 2);
        assert_eq!(nice_ceiling(3), 4);
        assert_eq!(nice_ceiling(5), 6);
        assert_eq!(nice_ceiling(9), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(500), 600);
    }

    #[test]
    fn one_bar_per_day_and_series_with_its_value() {
        let s = |class, label, v: i64| Series {
            class,
            label,
            points: vec![("2026-11-25".into(), v), ("2026-11-26".into(), v + 1)],
        };
        let chart = Chart::bars("t", vec![s("series-a", "sign-ins", 1), s("series-b", "failures", 3)]);
        assert_eq!(chart.bars.len(), 4);
        let last = &chart.bars[3];
        assert_eq!((last.day.as_str(), last.value), ("2026-11-26", 4));
        // The axis tops out at 4, the round maximum: the tallest bar fills it.
        assert_eq!(last.h, format!("{:.1}", f64::from(BOTTOM - TOP)));
        assert_eq!(chart.x_ticks.len(), 1, "only today is labelled in a 2-day chart");
    }
}
