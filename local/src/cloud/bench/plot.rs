//! The README's picture of a run (SVG, drawn by hand: two small charts need
//! no plotting crate): detection delay per tool, and the work of one ECS
//! event against deployments in flight.

use super::Results;

const W: f64 = 760.0;
const PANEL_H: f64 = 230.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Both charts, one above the other.
pub fn svg(r: &Results) -> String {
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        PANEL_H * 2.0 + 20.0
    );
    detection(&mut o, r, 0.0);
    per_event(&mut o, r, PANEL_H + 20.0);
    o.push_str("</svg>\n");
    o
}

/// Horizontal bars: median detection per tool, a whisker from min to max.
fn detection(o: &mut String, r: &Results, top: f64) {
    o.push_str(&format!(
        "<text x=\"10\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">Detection: ECS completed → tool done (median, min–max), seconds</text>\n",
        top + 20.0
    ));
    let left = 220.0;
    let width = W - left - 80.0;
    let max = r.tools.iter().map(|t| t.detection_ms_max).fold(1.0, f64::max) / 1000.0;
    let x = |s: f64| left + width * (s / max);
    for (i, t) in r.tools.iter().enumerate() {
        let y = top + 50.0 + i as f64 * 55.0;
        let (lo, med, hi) = (t.detection_ms_min / 1000.0, t.detection_ms_median / 1000.0, t.detection_ms_max / 1000.0);
        o.push_str(&format!(
            "<text x=\"10\" y=\"{}\">{}</text>\n<rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"24\" fill=\"{}\"/>\n\
             <line x1=\"{:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"black\"/>\n<text x=\"{:.1}\" y=\"{}\">{med:.2} s</text>\n",
            y + 16.0,
            esc(&t.label),
            (x(med) - left).max(1.0),
            if i == 0 { "#2b7a3d" } else { "#8a8a8a" },
            x(lo),
            y + 12.0,
            x(hi),
            y + 12.0,
            x(hi) + 6.0,
            y + 16.0
        ));
    }
}

/// A line's name, colour and value.
type Series = (&'static str, &'static str, fn(&super::scale::EventCost) -> f64);

/// Lines: DynamoDB items read and ECS + ELB calls per event, by deployments in flight.
fn per_event(o: &mut String, r: &Results, top: f64) {
    o.push_str(&format!(
        "<text x=\"10\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">Work per ECS event by deployments in flight</text>\n",
        top + 20.0
    ));
    let c = &r.event_costs;
    if c.is_empty() {
        o.push_str(&format!("<text x=\"10\" y=\"{}\">not measured in this run</text>\n", top + 50.0));
        return;
    }
    let (left, bottom, width, height) = (80.0, top + PANEL_H - 30.0, W - 200.0, PANEL_H - 80.0);
    let max = c.iter().map(|e| e.dynamodb_items_read.max(e.ecs_calls + e.elb_calls)).fold(1.0, f64::max);
    let step = if c.len() > 1 { width / (c.len() - 1) as f64 } else { 0.0 };
    let px = |i: usize| left + step * i as f64;
    let py = |v: f64| bottom - height * (v / max);
    o.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"black\"/>\n<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{left}\" y2=\"{}\" stroke=\"black\"/>\n<text x=\"{}\" y=\"{}\">{max:.0}</text>\n",
        left + width,
        bottom - height,
        left - 30.0,
        bottom - height + 4.0
    ));
    let series: [Series; 2] = [
        ("DynamoDB items read", "#b03a2e", |e| e.dynamodb_items_read),
        ("ECS + ELB calls", "#1f5fa8", |e| e.ecs_calls + e.elb_calls),
    ];
    for (k, (name, colour, f)) in series.iter().enumerate() {
        let points: Vec<String> = c.iter().enumerate().map(|(i, e)| format!("{:.1},{:.1}", px(i), py(f(e)))).collect();
        o.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n<text x=\"{}\" y=\"{}\" fill=\"{colour}\">{name}</text>\n",
            points.join(" "),
            left + width + 10.0,
            top + 50.0 + k as f64 * 18.0
        ));
    }
    for (i, e) in c.iter().enumerate() {
        o.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            px(i),
            bottom + 16.0,
            e.in_flight
        ));
    }
}
