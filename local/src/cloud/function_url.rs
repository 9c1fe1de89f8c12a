//! Lambda function URLs in the local cloud. The function URL of a template
//! function is `<endpoint>/lambda-url/<function name>/` (AWS:
//! `https://<url-id>.lambda-url.<region>.on.aws/`); any method, sub-path and
//! query under it reaches the function. As Lambda does ("Invoking Lambda
//! function URLs" in the Lambda developer guide), the request becomes the
//! payload format 2.0 event, the function runs on the host like any other, and
//! its answer becomes the HTTP response.
//!
//! An `AWS_IAM` URL wants SigV4 (an `Authorization` header or a presigned
//! query) for service `lambda` in the stack's region, else 403
//! `{"Message":"Forbidden"}`. The caller is whoever moto's STS says the
//! access key is; the signature itself is not verified (moto cannot).
//! [`call_function_url`] is the signed client.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_types::base64;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::Cloud;
use super::functions::LambdaError;
use super::iam::CallerIdentity;
use super::template::{AuthType, FunctionUrl, Stack};

/// Where the router serves function URLs.
pub const PATH_PREFIX: &str = "/lambda-url/";

/// An HTTP request to a function URL, as the router got it.
#[derive(Debug)]
pub struct UrlRequest {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The peer's address (`requestContext.http.sourceIp`).
    pub source_ip: String,
}

impl Cloud {
    /// The local URL of a function URL, by the function's logical id
    /// (`DecideApprovalFunction`) or the URL's (`DecideApprovalFunctionUrl`):
    /// what `!GetAtt DecideApprovalFunctionUrl.FunctionUrl` resolves to.
    pub fn function_url(&self, logical_id: &str) -> Option<String> {
        self.function_urls
            .iter()
            .find(|u| u.logical_id == logical_id || u.function == logical_id)
            .map(|u| u.url.clone())
    }

    /// Every function URL the router serves.
    pub fn function_urls(&self) -> &[FunctionUrl] {
        &self.function_urls
    }
}

/// Serves one request under [`PATH_PREFIX`].
pub(super) async fn serve(cloud: &Cloud, req: UrlRequest) -> Response {
    let rest = req.uri.path().strip_prefix(PATH_PREFIX).unwrap_or_default();
    let (name, raw_path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let url = cloud.function_urls.iter().find(|u| u.function_name == name);
    let Some((url, function)) = url.and_then(|u| Some((u, cloud.host.by_logical_id(&u.function)?.clone()))) else {
        // AWS has no such host; the local cloud says which URL it does not have.
        return message(StatusCode::NOT_FOUND, &format!("no function URL {PATH_PREFIX}{name}/ in the local cloud"));
    };
    let authorizer = match url.auth_type {
        AuthType::None => None,
        AuthType::AwsIam => {
            let scope = Scope::of(&req.headers, req.uri.query())
                .filter(|s| s.service == "lambda" && s.region == cloud.stack.region);
            let Some(scope) = scope else {
                return message(StatusCode::FORBIDDEN, "Forbidden");
            };
            match cloud.moto_iam().caller_identity(&scope.access_key).await {
                Ok(identity) => Some(iam_authorizer(&scope.access_key, &identity)),
                Err(e) => {
                    tracing::error!(function = %function.name, error = %e, "function URL: no caller identity");
                    return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
                }
            }
        }
    };
    let context = Context { url, stack: &cloud.stack, authorizer, request_id: cloud.next_id(), at: Utc::now() };
    let event = event(&req, raw_path, &context);
    let mut response = answer(function.invoke(event).await);
    if let Ok(id) = HeaderValue::from_str(&context.request_id) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

/// The credential scope of a SigV4-signed request, from its `Authorization`
/// header or its presigned query (`X-Amz-Credential`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Scope {
    pub(super) access_key: String,
    pub(super) region: String,
    pub(super) service: String,
}

impl Scope {
    pub(super) fn of(headers: &HeaderMap, query: Option<&str>) -> Option<Self> {
        if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            let fields = auth.strip_prefix("AWS4-HMAC-SHA256 ")?;
            let field =
                |name: &str| fields.split(',').map(str::trim).find_map(|f| f.strip_prefix(name)?.strip_prefix('='));
            field("SignedHeaders")?;
            field("Signature")?;
            return Self::parse(field("Credential")?);
        }
        let params: Vec<(String, String)> =
            form_urlencoded::parse(query?.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        (param("X-Amz-Algorithm")? == "AWS4-HMAC-SHA256").then_some(())?;
        param("X-Amz-Signature")?;
        Self::parse(param("X-Amz-Credential")?)
    }

    /// `AKID/20260101/us-east-1/lambda/aws4_request`.
    fn parse(credential: &str) -> Option<Self> {
        let parts: Vec<&str> = credential.split('/').collect();
        match parts[..] {
            [key, date, region, service, "aws4_request"] if !key.is_empty() && date.len() == 8 => {
                Some(Self { access_key: key.into(), region: region.into(), service: service.into() })
            }
            _ => None,
        }
    }
}

/// `requestContext.authorizer` of an `AWS_IAM` URL: the caller moto knows.
fn iam_authorizer(access_key: &str, identity: &CallerIdentity) -> Value {
    json!({"iam": {
        "accessKey": access_key,
        "accountId": identity.account,
        "callerId": identity.user_id,
        "cognitoIdentity": null,
        "principalOrgId": null,
        "userArn": identity.arn,
        "userId": identity.user_id,
    }})
}

/// What the event says besides the request itself.
struct Context<'a> {
    url: &'a FunctionUrl,
    stack: &'a Stack,
    authorizer: Option<Value>,
    request_id: String,
    at: DateTime<Utc>,
}

/// A URL id as AWS's look (32 lower-case alphanumerics), the same for the same
/// function in the same account and region, as AWS's is.
fn url_id(stack: &Stack, function_name: &str) -> String {
    let h = hex::encode(Sha256::digest(format!("{}/{}/{function_name}", stack.account, stack.region)));
    h[..32].to_owned()
}

/// The event Lambda sends for `req` (payload format 2.0, the guide's "Request
/// payload format"): header names lower-case, repeated headers and query
/// parameters comma-joined, cookies in `cookies` (not in `headers`), fields
/// Lambda leaves null (`pathParameters`, `stageVariables`, `authentication`)
/// left out, as the guide allows.
fn event(req: &UrlRequest, raw_path: &str, cx: &Context<'_>) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for name in req.headers.keys() {
        let values = req.headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        if name == "cookie" {
            cookies.extend(values.flat_map(|v| v.split(';').map(|c| c.trim().to_owned()).collect::<Vec<_>>()));
            cookies.retain(|c| !c.is_empty());
        } else {
            headers.insert(name.as_str().to_owned(), json!(values.collect::<Vec<_>>().join(",")));
        }
    }
    // What Lambda's front end adds.
    headers.entry("x-forwarded-for").or_insert_with(|| json!(req.source_ip));
    headers.entry("x-forwarded-proto").or_insert_with(|| json!("http"));
    let trace = cx.request_id.replace('-', "");
    let trace = trace.get(..24).unwrap_or(&trace);
    headers.entry("x-amzn-trace-id").or_insert_with(|| json!(format!("Root=1-{:08x}-{trace}", cx.at.timestamp())));

    let url_id = url_id(cx.stack, &cx.url.function_name);
    let user_agent = req.headers.get("user-agent").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": req.uri.query().unwrap_or_default(),
        "headers": headers,
        "requestContext": {
            "accountId": match cx.url.auth_type {
                AuthType::AwsIam => cx.stack.account.as_str(),
                AuthType::None => "anonymous",
            },
            "apiId": url_id,
            "domainName": format!("{url_id}.lambda-url.{}.on.aws", cx.stack.region),
            "domainPrefix": url_id,
            "http": {
                "method": req.method.as_str(),
                "path": raw_path,
                "protocol": format!("{:?}", req.version),
                "sourceIp": req.source_ip,
                "userAgent": user_agent.unwrap_or_default(),
            },
            "requestId": cx.request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": cx.at.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": cx.at.timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if let Some(query) = req.uri.query().filter(|q| !q.is_empty()) {
        let mut params = Map::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match params.get_mut(k.as_ref()) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(&v);
                }
                _ => {
                    params.insert(k.into_owned(), json!(v));
                }
            }
        }
        event["queryStringParameters"] = Value::Object(params);
    }
    if let Some(authorizer) = &cx.authorizer {
        event["requestContext"]["authorizer"] = authorizer.clone();
    }
    if !req.body.is_empty() {
        let content_type = req.headers.get("content-type").and_then(|v| v.to_str().ok());
        match std::str::from_utf8(&req.body) {
            Ok(text) if is_text(content_type) => event["body"] = json!(text),
            _ => {
                event["body"] = json!(base64::encode(&req.body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    }
    event
}

/// Whether a body of this type is passed as text. The guide says only that a
/// binary body is base64-encoded; here "text" is `text/*`, JSON, JavaScript,
/// XML and `+json`/`+xml` types. Everything else (forms, no content type) is
/// base64-encoded, as Lambda does with form posts.
fn is_text(content_type: Option<&str>) -> bool {
    let mime = content_type.and_then(|c| c.split(';').next()).unwrap_or_default().trim().to_ascii_lowercase();
    mime.starts_with("text/")
        || matches!(mime.as_str(), "application/json" | "application/javascript" | "application/xml")
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
}

/// The function's answer as Lambda turns it into the HTTP response (the
/// guide's "Response payload format"): a JSON object with `statusCode` gives
/// that status, its `headers`, `cookies` (as `set-cookie`) and `body`
/// (base64-decoded when `isBase64Encoded`); any other JSON — a string, an
/// object without `statusCode` — is the body of a 200 with `content-type:
/// application/json`. A function error, or an answer Lambda cannot map (a
/// status outside 100–599, a body that is not base64), is 502
/// `{"Message":"Internal Server Error"}`: "Monitoring Lambda function URLs" in
/// the guide counts function errors among the URL's 5XX answers, and 502 with
/// that body is what the service sends (awsdocs/aws-lambda-developer-guide#430).
fn answer(reply: Result<Value, LambdaError>) -> Response {
    let bad_gateway = || message(StatusCode::BAD_GATEWAY, "Internal Server Error");
    let Ok(out) = reply else { return bad_gateway() };
    if out.get("statusCode").is_none() {
        return Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::from(out.to_string()))
            .unwrap_or_else(|_| bad_gateway());
    }
    structured(&out).unwrap_or_else(|why| {
        tracing::warn!(%why, "function URL: the function's answer cannot be mapped");
        bad_gateway()
    })
}

fn structured(out: &Value) -> Result<Response, String> {
    let status = out["statusCode"]
        .as_u64()
        .filter(|s| (100..=599).contains(s))
        .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
        .ok_or_else(|| format!("statusCode {}", out["statusCode"]))?;
    let mut response = Response::builder().status(status);
    for (name, value) in out.get("headers").and_then(Value::as_object).into_iter().flatten() {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            other => return Err(format!("header {name}: {other}")),
        };
        response = response.header(name.as_str(), value);
    }
    for cookie in out.get("cookies").and_then(Value::as_array).into_iter().flatten() {
        response = response.header("set-cookie", cookie.as_str().ok_or_else(|| format!("cookie {cookie}"))?);
    }
    let body = match out.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if out["isBase64Encoded"] == json!(true) => {
            base64::decode(s).map_err(|e| format!("body is not base64: {e}"))?
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    response.body(Body::from(body)).map_err(|e| e.to_string())
}

/// Lambda's own answers: `{"Message": …}`.
fn message(status: StatusCode, text: &str) -> Response {
    let mut r = (status, json!({ "Message": text }).to_string()).into_response();
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    r
}

/// Why [`call_function_url`] got no answer.
#[derive(Debug, thiserror::Error)]
pub enum UrlCallError {
    #[error("cannot sign the request: {0}")]
    Sign(String),
    #[error("function URL: {0}")]
    Http(#[from] reqwest::Error),
}

/// Calls a function URL as `credentials`, the request signed with SigV4 for
/// service `lambda` in `region` (as awscurl or an SDK signer sign it): the
/// status and the body, parsed as JSON (a body that is not JSON comes back as
/// a JSON string, an empty one as null). A `body` of null sends none; any other
/// is sent as `application/json`.
pub async fn call_function_url(
    url: &str,
    method: Method,
    body: &Value,
    credentials: &Credentials,
    region: &str,
) -> Result<(StatusCode, Value), UrlCallError> {
    let bytes = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    let headers: &[(&str, &str)] = if body.is_null() { &[] } else { &[("content-type", "application/json")] };
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| UrlCallError::Sign(e.to_string()))?
        .into();
    let signable = SignableRequest::new(method.as_str(), url, headers.iter().copied(), SignableBody::Bytes(&bytes))
        .map_err(|e| UrlCallError::Sign(e.to_string()))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| UrlCallError::Sign(e.to_string()))?.into_parts();
    let mut req = reqwest::Client::new().request(method, url).body(bytes);
    for (name, value) in headers.iter().copied().chain(instructions.headers()) {
        req = req.header(name, value);
    }
    let resp = req.send().await?;
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let text = resp.text().await?;
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Ok((status, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        Stack { name: "s".into(), region: "us-east-1".into(), account: "123456789012".into() }
    }

    fn url(auth_type: AuthType) -> FunctionUrl {
        FunctionUrl {
            logical_id: "ApproveFunctionUrl".into(),
            function: "ApproveFunction".into(),
            function_name: "s-ApproveFunction".into(),
            auth_type,
            url: "http://127.0.0.1:7000/lambda-url/s-ApproveFunction/".into(),
        }
    }

    fn request(uri: &str, headers: &[(&str, &str)], body: &str) -> UrlRequest {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        UrlRequest {
            method: Method::POST,
            uri: uri.parse().unwrap(),
            version: Version::HTTP_11,
            headers: map,
            body: Bytes::from(body.to_owned()),
            source_ip: "127.0.0.1".into(),
        }
    }

    async fn body_of(r: Response) -> (StatusCode, HeaderMap, String) {
        let (parts, body) = r.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn the_event_is_lambdas_payload_format_2() {
        let (stack, url) = (stack(), url(AuthType::None));
        let at = DateTime::parse_from_rfc3339("2020-03-12T19:03:58.390Z").unwrap().with_timezone(&Utc);
        let cx = Context {
            url: &url,
            stack: &stack,
            authorizer: None,
            request_id: "8b1f0c52-3d7e-4a55-9d1e-0f6a2b7c9e41".into(),
            at,
        };
        let req = request(
            "/lambda-url/s-ApproveFunction/my/path?p1=v1&p1=v2&p2=a%20b",
            &[("Header1", "value1"), ("x-multi", "a"), ("x-multi", "b"), ("cookie", "c1=1; c2=2")],
            "Hello from client!",
        );
        let e = event(&req, "/my/path", &cx);
        let id = &e["requestContext"]["apiId"];
        assert_eq!(id.as_str().unwrap().len(), 32);
        assert_eq!(e["rawPath"], "/my/path");
        assert_eq!(e["rawQueryString"], "p1=v1&p1=v2&p2=a%20b");
        assert_eq!(e["queryStringParameters"], json!({"p1": "v1,v2", "p2": "a b"}));
        assert_eq!(e["cookies"], json!(["c1=1", "c2=2"]));
        assert_eq!(e["headers"]["header1"], "value1");
        assert_eq!(e["headers"]["x-multi"], "a,b");
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["requestContext"]["accountId"], "anonymous");
        assert_eq!(e["requestContext"]["domainName"], format!("{}.lambda-url.us-east-1.on.aws", id.as_str().unwrap()));
        assert_eq!(e["requestContext"]["time"], "12/Mar/2020:19:03:58 +0000");
        assert_eq!(e["requestContext"]["timeEpoch"], 1_584_039_838_390_i64);
        assert_eq!(e["requestContext"]["http"]["protocol"], "HTTP/1.1");
        assert!(e["requestContext"].get("authorizer").is_none());
        // Not a text type: base64, as Lambda sends binary bodies.
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(base64::decode(e["body"].as_str().unwrap()).unwrap(), b"Hello from client!");

        let json =
            request("/lambda-url/s-ApproveFunction", &[("content-type", "application/json; charset=utf-8")], "{}");
        let e = event(&json, "/", &cx);
        assert_eq!((&e["body"], &e["isBase64Encoded"]), (&json!("{}"), &json!(false)));
        assert!(e.get("queryStringParameters").is_none() && e.get("cookies").is_none());
    }

    #[test]
    fn the_credential_scope_comes_from_the_header_or_the_presigned_query() {
        let mut h = HeaderMap::new();
        let scope = Scope { access_key: "AKID".into(), region: "us-east-1".into(), service: "lambda".into() };
        h.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=ab",
            ),
        );
        assert_eq!(Scope::of(&h, None), Some(scope));
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Feu-west-1%2Flambda%2Faws4_request&X-Amz-Signature=ab";
        assert_eq!(Scope::of(&HeaderMap::new(), Some(q)).map(|s| s.region), Some("eu-west-1".into()));
        assert_eq!(Scope::of(&HeaderMap::new(), Some("x=1")), None);
        h.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(Scope::of(&h, None), None);
    }

    #[tokio::test]
    async fn answers_map_as_lambda_maps_them() {
        let custom = json!({
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "My-Custom-Header": "Custom Value"},
            "cookies": ["Cookie_1=Value1; Max-Age=78000", "Cookie_2=Value2"],
            "body": base64::encode("made"),
            "isBase64Encoded": true,
        });
        let (status, headers, body) = body_of(answer(Ok(custom))).await;
        assert_eq!((status, body.as_str()), (StatusCode::CREATED, "made"));
        assert_eq!(headers["my-custom-header"], "Custom Value");
        let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["Cookie_1=Value1; Max-Age=78000", "Cookie_2=Value2"]);

        let (status, headers, body) = body_of(answer(Ok(json!("Hello, world!")))).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "\"Hello, world!\""));
        assert_eq!(headers["content-type"], "application/json");
        let (_, _, body) = body_of(answer(Ok(json!({"message": "hi", "body": "not this"})))).await;
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"message": "hi", "body": "not this"}));

        let error = LambdaError { error_type: "Boom".into(), error_message: "no".into() };
        for bad in [
            Err(error),
            Ok(json!({"statusCode": 42})),
            Ok(json!({"statusCode": 200, "body": "%", "isBase64Encoded": true})),
        ] {
            let (status, _, body) = body_of(answer(bad)).await;
            assert_eq!((status, body.as_str()), (StatusCode::BAD_GATEWAY, r#"{"Message":"Internal Server Error"}"#));
        }
    }
}
