//! A minimal XML writer for awsQuery responses.

pub const NAMESPACE: &str = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";

/// Escapes text for element content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds an XML document element by element.
#[derive(Default)]
pub struct Xml(String);

impl Xml {
    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    /// `<tag>text</tag>`.
    pub fn text(&mut self, tag: &str, text: impl ToString) -> &mut Self {
        let t = escape(&text.to_string());
        self.open(tag);
        self.0.push_str(&t);
        self.close(tag)
    }

    /// `<tag>text</tag>` when present.
    pub fn opt(&mut self, tag: &str, text: Option<impl ToString>) -> &mut Self {
        if let Some(t) = text {
            self.text(tag, t);
        }
        self
    }

    pub fn finish(self) -> String {
        self.0
    }
}

/// Wraps a result body in `<{Action}Response><{Action}Result>…` with the request id.
pub fn response(action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_nests() {
        let mut x = Xml::default();
        x.open("A").text("B", "1 < 2 & 'x'").opt("C", None::<i32>).close("A");
        assert_eq!(x.finish(), "<A><B>1 &lt; 2 &amp; &apos;x&apos;</B></A>");
    }
}
