"""Local servers answering like mainland China's SMS providers, for their real SDKs to talk to.

Each recomputes the request's signature with the secret it was configured with, so a client
holding another secret (or a request changed after signing) is refused as the provider would:
- Aliyun Dysmsapi 2017-05-25 SendSms, RPC style, signed ACS3-HMAC-SHA256 (the v3 signature of
  alibabacloud-tea-openapi); answers {"Code": "OK", "BizId", "RequestId"} or a business code;
- Tencent Cloud sms 2021-01-11 SendSms, a JSON POST signed TC3-HMAC-SHA256; answers
  {"Response": {"SendStatusSet": [...], "RequestId"}} or {"Response": {"Error": {...}}}.
"""

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

ALIYUN_KEY_ID = "LTAI5tTestKeyId0123456789"
ALIYUN_SECRET = "aliyun-test-secret-0123456789abcdef"
TENCENT_SECRET_ID = "AKIDtestsecretid0123456789abcdefghij"
TENCENT_SECRET_KEY = "tencent-test-secret-key-0123456789"
SIGN_NAME = "明湾市急救中心"


@dataclass
class FakeProvider:
    url: str = ""
    messages: list[dict] = field(default_factory=list)  # accepted: {"to", "param", "sign", "template"}
    # Answers to give before accepting again: (http status, code), e.g. (200, "isv.BUSINESS_LIMIT_CONTROL").
    failures: list[tuple[int, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # codes answered, in order


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    content_type = "application/json;charset=utf-8"  # Aliyun's

    def log_message(self, *args) -> None:
        pass

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# --- Aliyun ----------------------------------------------------------------------------------


def aliyun_signature(
    method: str, path: str, query: list[tuple[str, str]], headers, signed: list[str], body: bytes, secret: str
) -> str:
    """ACS3-HMAC-SHA256 as Alibaba Cloud documents it (the v3 request signature)."""
    canonical_query = "&".join(f"{k}={quote(v, safe='~')}" for k, v in sorted(query, key=lambda kv: kv[0]))
    canonical_headers = "".join(f"{name}:{(headers.get(name) or '').strip()}\n" for name in signed)
    canonical = "\n".join(
        [
            method,
            path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def aliyun_handler(fake: FakeProvider, template_code: str, param: str) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def refuse(self, status: int, code: str, message: str) -> None:
            fake.refused.append(code)
            self.reply(status, {"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = urlsplit(self.path)
            query = parse_qsl(parts.query, keep_blank_values=True)
            auth = re.fullmatch(
                r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)",
                self.headers.get("Authorization", ""),
            )
            if auth is None:
                return self.refuse(400, "MissingAuthorization", "Authorization is mandatory for this action.")
            key_id, signed, signature = auth.group(1), auth.group(2).split(";"), auth.group(3)
            if key_id != ALIYUN_KEY_ID:
                return self.refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            if "host" not in signed or "x-acs-date" not in signed or "x-acs-action" not in signed:
                return self.refuse(400, "SignatureDoesNotMatch", "Required headers are not signed.")
            expected = aliyun_signature("POST", parts.path, query, self.headers, signed, body, ALIYUN_SECRET)
            if (
                not hmac.compare_digest(signature, expected)
                or self.headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest()
            ):
                return self.refuse(
                    400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
                )
            if (self.headers.get("x-acs-action"), self.headers.get("x-acs-version")) != (
                "SendSms",
                "2017-05-25",
            ):
                return self.refuse(400, "InvalidAction.NotFound", "Specified api is not found.")
            form = dict(query) | dict(parse_qsl(body.decode(), keep_blank_values=True))
            if fake.failures:
                status, code = fake.failures.pop(0)
                return self.refuse(status, code, "failure asked for by the test")
            if not re.fullmatch(r"1\d{10}", form.get("PhoneNumbers", "")):
                return self.refuse(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
            if form.get("SignName") != SIGN_NAME:
                return self.refuse(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
            if form.get("TemplateCode") != template_code:
                return self.refuse(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
            try:
                values = json.loads(form.get("TemplateParam", ""))
            except ValueError:
                return self.refuse(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            if set(values) != {param}:
                return self.refuse(200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
            biz_id = f"{len(fake.messages) + 900619746936498}^0"
            fake.messages.append(
                {
                    "to": form["PhoneNumbers"],
                    "param": values[param],
                    "sign": form["SignName"],
                    "template": template_code,
                    "id": biz_id,
                }
            )
            self.reply(
                200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4()).upper()}
            )

    return Handler


@pytest.fixture
def fake_aliyun(settings):
    fake = FakeProvider()
    settings.SMS_PROVIDER = "aliyun"
    settings.ALIYUN_SMS_ACCESS_KEY_ID = ALIYUN_KEY_ID
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = ALIYUN_SECRET
    settings.ALIYUN_SMS_SIGN_NAME = SIGN_NAME
    settings.ALIYUN_SMS_TEMPLATE_CODE = "SMS_480105001"
    settings.ALIYUN_SMS_TEMPLATE_PARAM = "content"
    with serving(aliyun_handler(fake, "SMS_480105001", "content")) as url:
        fake.url = settings.ALIYUN_SMS_ENDPOINT = url
        yield fake


# --- Tencent Cloud ---------------------------------------------------------------------------


def tc3_signature(
    headers, signed: list[str], body: bytes, secret_key: str, timestamp: str, service: str
) -> str:
    """TC3-HMAC-SHA256 as Tencent Cloud documents it (API 3.0 signature v3)."""
    canonical_headers = "".join(f"{name}:{(headers.get(name) or '').strip().lower()}\n" for name in signed)
    canonical = "\n".join(
        ["POST", "/", "", canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()]
    )
    date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"

    def mac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()


def tencent_handler(fake: FakeProvider, app_id: str, template_id: str) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        content_type = "application/json"  # exactly: the SDK reads Response.Error only then

        def error(self, code: str, message: str) -> None:
            fake.refused.append(code)
            self.reply(
                200,
                {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}},
            )

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            auth = re.fullmatch(
                r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request, "
                r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})",
                self.headers.get("Authorization", ""),
            )
            if auth is None:
                return self.error("AuthFailure.SignatureFailure", "The Authorization header is malformed.")
            secret_id, _date, service, signed, signature = auth.groups()
            if secret_id != TENCENT_SECRET_ID:
                return self.error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
            timestamp = self.headers.get("X-TC-Timestamp", "0")
            expected = tc3_signature(
                self.headers, signed.split(";"), body, TENCENT_SECRET_KEY, timestamp, service
            )
            if (
                service != "sms"
                or "host" not in signed.split(";")
                or not hmac.compare_digest(signature, expected)
            ):
                message = "The provided credentials could not be validated. Check your signature."
                return self.error("AuthFailure.SignatureFailure", message)
            if (self.headers.get("X-TC-Action"), self.headers.get("X-TC-Version")) != (
                "SendSms",
                "2021-01-11",
            ):
                return self.error("InvalidAction", "The action is not found.")
            request = json.loads(body)
            if fake.failures:
                status, code = fake.failures.pop(0)
                if status != 200:  # the whole request fails
                    return self.error(code, "failure asked for by the test")
                number_code = code
            else:
                number_code = "Ok"
            if request.get("SmsSdkAppId") != app_id:
                return self.error("FailedOperation.SmsSdkAppIdVerifyFail", "SdkAppId verify fail.")
            if request.get("SignName") != SIGN_NAME:
                return self.error("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误。")
            if request.get("TemplateId") != template_id:
                return self.error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配。")
            statuses = []
            for number in request.get("PhoneNumberSet", []):
                code = number_code
                if code == "Ok" and not re.fullmatch(r"\+861\d{10}", number):
                    code = "InvalidParameterValue.IncorrectPhoneNumber"
                serial = f"2433:{uuid.uuid4().int % 10**28}"
                if code == "Ok":
                    fake.messages.append(
                        {
                            "to": number,
                            "param": request.get("TemplateParamSet", []),
                            "sign": request["SignName"],
                            "template": template_id,
                            "id": serial,
                        }
                    )
                else:
                    fake.refused.append(code)
                statuses.append(
                    {
                        "SerialNo": serial if code == "Ok" else "",
                        "PhoneNumber": number,
                        "Fee": 1 if code == "Ok" else 0,
                        "SessionContext": "",
                        "Code": code,
                        "Message": "send success" if code == "Ok" else "refused",
                        "IsoCode": "CN",
                    }
                )
            self.reply(200, {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}})

    return Handler


@pytest.fixture
def fake_tencent(settings):
    fake = FakeProvider()
    settings.SMS_PROVIDER = "tencent"
    settings.TENCENT_SMS_SECRET_ID = TENCENT_SECRET_ID
    settings.TENCENT_SMS_SECRET_KEY = TENCENT_SECRET_KEY
    settings.TENCENT_SMS_SDK_APP_ID = "1400787878"
    settings.TENCENT_SMS_SIGN_NAME = SIGN_NAME
    settings.TENCENT_SMS_TEMPLATE_ID = "1985230"
    with serving(tencent_handler(fake, "1400787878", "1985230")) as url:
        fake.url = settings.TENCENT_SMS_ENDPOINT = url
        yield fake
