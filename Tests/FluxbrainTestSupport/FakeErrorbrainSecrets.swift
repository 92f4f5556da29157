/// One secret shape: text that contains it, and the part that must never come out. The Redactor table tests and
/// the end-to-end test through the fake Errorbrain share this one list.
package struct SecretSample: Sendable, CustomStringConvertible {
    package var name: String
    /// Text that contains the secret, the way it shows up in a message or a log.
    package var text: String
    /// The part that must never leave the process.
    package var secret: String
    package var description: String { name }

    /// Every pattern the issue names; fake values of realistic shapes.
    package static let all: [SecretSample] = [
        SecretSample(
            name: "bearer token",
            text: "request failed: Bearer abc123DEF456ghi789.jkl returned 401",
            secret: "abc123DEF456ghi789.jkl"
        ),
        SecretSample(
            name: "Authorization header",
            text: "headers: Authorization: Basic dXNlcjpodW50ZXIyMjI=, Accept: */*",
            secret: "dXNlcjpodW50ZXIyMjI="
        ),
        SecretSample(
            name: "Authorization JSON member",
            text: #"{"Authorization": "Token t0k3nv4lu3xyz", "x": 1}"#,
            secret: "t0k3nv4lu3xyz"
        ),
        SecretSample(
            name: "credentials in URL",
            text: "failed to clone 'https://deploy:hunter2pass@git.example.com/org/repo.git': auth failed",
            secret: "hunter2pass"
        ),
        SecretSample(name: "password=", text: "connect db password=Sup3rS3cret! host=db", secret: "Sup3rS3cret!"),
        SecretSample(name: "passwd:", text: "passwd: pa55wdValue99 rejected", secret: "pa55wdValue99"),
        SecretSample(name: "token=", text: "GET /api?token=tok_live_123456789&x=1", secret: "tok_live_123456789"),
        SecretSample(name: "secret=", text: "client secret=s3cr3tval0e used", secret: "s3cr3tval0e"),
        SecretSample(name: "api_key:", text: "api_key: AK-987654321zyx", secret: "AK-987654321zyx"),
        SecretSample(name: "apikey=", text: "apikey=zx81spectrum48k", secret: "zx81spectrum48k"),
        SecretSample(
            name: "JSON password",
            text: #"values: {"db": {"password": "jsonPassw0rd with space"}}"#,
            secret: "jsonPassw0rd"
        ),
        SecretSample(
            name: "escaped JSON token",
            text: #"log: {\"token\":\"escapedT0ken42\",\"level\":\"error\"}"#,
            secret: "escapedT0ken42"
        ),
        SecretSample(
            name: "PEM private key",
            text:
                "values.yaml: tls.key: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefakefakeKEYDATA\nq83hd\n-----END RSA PRIVATE KEY----- end",
            secret: "MIIEowIBAAKCAQEAfakefakefakeKEYDATA"
        ),
        SecretSample(
            name: "unterminated PEM",
            text: "key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
            secret: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
        ),
        SecretSample(
            name: "AWS access key id",
            text: "using AKIAIOSFODNN7EXAMPLE for s3",
            secret: "AKIAIOSFODNN7EXAMPLE"
        ),
        SecretSample(
            name: "AWS secret access key",
            text: "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ),
        SecretSample(
            name: "GitHub ghp_",
            text: "remote: ghp_0123456789abcdefghijABCDEFGHIJ012345 invalid",
            secret: "ghp_0123456789abcdefghijABCDEFGHIJ012345"
        ),
        SecretSample(
            name: "GitHub ghs_ in URL user",
            text: "https://x-access-token:ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@github.com/o/r",
            secret: "ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
        ),
        SecretSample(
            name: "GitHub fine-grained PAT",
            text: "token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS",
            secret: "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
        ),
        SecretSample(
            name: "Slack token",
            text: "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx failed",
            secret: "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
        ),
        SecretSample(
            name: "Slack webhook URL",
            text: "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX: 404",
            secret: "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
        ),
        SecretSample(
            name: "Google API key",
            text: "key AIzaSyFAKEfake0123456789_abcdefghijklmn rejected",
            secret: "AIzaSyFAKEfake0123456789_abcdefghijklmn"
        ),
        SecretSample(
            name: "Azure AccountKey",
            text:
                "DefaultEndpointsProtocol=https;AccountName=st1;AccountKey=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4+/==;EndpointSuffix=core.windows.net",
            secret: "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4"
        ),
        SecretSample(
            name: "Azure SAS signature",
            text: "GET https://st1.blob.core.windows.net/c/b?sv=2022&sig=AbCdSaSsIgNaTuRe%2B1%3D&se=1",
            secret: "AbCdSaSsIgNaTuRe"
        ),
        SecretSample(
            name: "JWT",
            text:
                "id_tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
            secret: "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
        ),
        SecretSample(
            name: "Secret object in JSON text",
            text:
                #"Secret/apps/db dry-run failed: {"apiVersion":"v1","data":{"db-url":"cG9zdGdyZXM6Ly9zZWNyZXQ="},"kind":"Secret"}"#,
            secret: "cG9zdGdyZXM6Ly9zZWNyZXQ="
        ),
        SecretSample(
            name: "Secret object in YAML text",
            text:
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  db-url: eWFtbFNlY3JldFZhbHVl\n  other: b3RoZXI=\n",
            secret: "eWFtbFNlY3JldFZhbHVl"
        ),
    ]
}
