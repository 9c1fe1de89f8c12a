//! IAM users and caller identities, from moto's IAM and STS: the identities
//! behind SigV4-signed function URL requests.
//!
//! Both are query APIs (form in, XML out) that moto serves on its root path and
//! routes by the credential scope's service; moto picks the account from the
//! scope's access key and does not check signatures, so none is computed here.

use aws_credential_types::Credentials;

use super::Cloud;

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    /// moto could not be reached, or its answer could not be read.
    #[error("{operation}: {source}")]
    Unreachable { operation: &'static str, source: reqwest::Error },
    /// moto answered with an error status.
    #[error("{operation}: HTTP {status}: {body}")]
    Refused { operation: &'static str, status: reqwest::StatusCode, body: String },
    /// moto's answer lacks a field the operation returns.
    #[error("{operation}: no <{field}> in {body}")]
    Unreadable { operation: &'static str, field: &'static str, body: String },
}

/// What STS `GetCallerIdentity` says about an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// `arn:aws:iam::<account>:user/<name>` for an IAM user's key.
    pub arn: String,
    pub user_id: String,
    pub account: String,
}

/// moto's IAM and STS, as one caller sees them.
pub struct MotoIam<'a> {
    pub http: &'a reqwest::Client,
    /// moto itself, not the router.
    pub endpoint: &'a str,
    pub region: &'a str,
}

impl MotoIam<'_> {
    /// One query call, made as `access_key` (which tells moto the account).
    async fn query(
        &self,
        operation: &'static str,
        service: &str,
        access_key: &str,
        form: &[(&str, &str)],
    ) -> Result<String, IamError> {
        let scope = format!("{access_key}/20260101/{}/{service}/aws4_request", self.region);
        let resp = self
            .http
            .post(self.endpoint)
            .header("authorization", format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"))
            .form(form)
            .send()
            .await
            .map_err(|source| IamError::Unreachable { operation, source })?;
        let status = resp.status();
        let body = resp.text().await.map_err(|source| IamError::Unreachable { operation, source })?;
        if !status.is_success() {
            return Err(IamError::Refused { operation, status, body });
        }
        Ok(body)
    }

    /// STS `GetCallerIdentity` for `access_key`: the IAM user it belongs to in
    /// moto, else moto's default identity (`arn:aws:sts::<account>:user/moto`).
    pub async fn caller_identity(&self, access_key: &str) -> Result<CallerIdentity, IamError> {
        const OP: &str = "STS GetCallerIdentity";
        let xml =
            self.query(OP, "sts", access_key, &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]).await?;
        Ok(CallerIdentity {
            arn: field(OP, &xml, "Arn")?,
            user_id: field(OP, &xml, "UserId")?,
            account: field(OP, &xml, "Account")?,
        })
    }

    /// A new IAM user `name` with an access key: the credentials to sign as it.
    /// Refused (`EntityAlreadyExists`) when the user exists.
    pub async fn create_user(&self, name: &str) -> Result<Credentials, IamError> {
        const CREATE: &str = "IAM CreateUser";
        const KEY: &str = "IAM CreateAccessKey";
        let user = [("UserName", name), ("Version", "2010-05-08")];
        self.query(CREATE, "iam", "test", &[&[("Action", "CreateUser")], &user[..]].concat()).await?;
        let xml = self.query(KEY, "iam", "test", &[&[("Action", "CreateAccessKey")], &user[..]].concat()).await?;
        let id = field(KEY, &xml, "AccessKeyId")?;
        let secret = field(KEY, &xml, "SecretAccessKey")?;
        Ok(Credentials::new(id, secret, None, None, "moto-iam"))
    }
}

impl Cloud {
    /// moto's IAM and STS.
    pub fn moto_iam(&self) -> MotoIam<'_> {
        MotoIam { http: &self.http, endpoint: self.moto.of("iam"), region: &self.stack.region }
    }

    /// A new IAM user in moto with an access key (see [`MotoIam::create_user`]):
    /// requests signed with it reach function URLs as `arn:aws:iam::<account>:user/<name>`.
    pub async fn iam_user(&self, name: &str) -> Result<Credentials, IamError> {
        self.moto_iam().create_user(name).await
    }
}

/// The text of the first `<tag>` element (moto's answers are flat enough for this).
fn field(operation: &'static str, xml: &str, tag: &'static str) -> Result<String, IamError> {
    let open = format!("<{tag}>");
    let text = xml
        .split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&format!("</{tag}>")))
        .map(|(text, _)| text)
        .ok_or_else(|| IamError::Unreadable { operation, field: tag, body: xml.to_owned() })?;
    Ok(text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_motos_answers() {
        let xml = "<R><GetCallerIdentityResult><UserId>AIDA1</UserId><Account>123456789012</Account>\
                   <Arn>arn:aws:iam::123456789012:user/a&amp;b</Arn></GetCallerIdentityResult></R>";
        assert_eq!(field("op", xml, "Arn").unwrap(), "arn:aws:iam::123456789012:user/a&b");
        assert_eq!(field("op", xml, "UserId").unwrap(), "AIDA1");
        let err = field("op", xml, "SecretAccessKey").unwrap_err().to_string();
        assert!(err.starts_with("op: no <SecretAccessKey>"), "{err}");
    }
}
