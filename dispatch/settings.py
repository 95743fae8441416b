"""One settings file, driven by the environment (see the README's configuration table).

Defaults work for local development: `make demo` / `make test` write DATABASE_URL and REDIS_URL
for the embedded PostgreSQL and Redis into var/env before Django starts.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# libpq's TCP timeouts for every database connection (database_from_url): first keepalive after
# 2 s idle, then one a second; unacknowledged data or probes for 4 s close the connection.
DB_TCP_TIMEOUTS = {
    "keepalives": "1",
    "keepalives_idle": "2",
    "keepalives_interval": "1",
    "keepalives_count": "2",
    "tcp_user_timeout": "4000",
}


def database_from_url(url: str) -> dict:
    """Django DATABASES entry from a postgres:// URL that may name several hosts.

    `postgres://user:pw@h1:5432,h2:5432/db?target_session_attrs=read-write` becomes
    HOST="h1,h2", PORT="5432,5432": libpq tries the hosts in order (failover).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "postgis"):
        raise ValueError(f"DATABASE_URL must start with postgres://, not {parts.scheme}://")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    hosts, ports = [], []
    for hostport in hostlist.split(","):
        host, _, port = hostport.partition(":")
        hosts.append(host or "localhost")
        ports.append(port or "5432")
    options = dict(parse_qsl(parts.query))
    options.setdefault("connect_timeout", "3")
    # A crashed or cut-off database host answers nothing (no refusal): keepalives and
    # tcp_user_timeout end an idle or in-flight connection to it after about 4 s, inside the
    # failover budget (ops/ha/RUNBOOK.md). The URL may set its own.
    for name, value in DB_TCP_TIMEOUTS.items():
        options.setdefault(name, value)
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(user),
        "PASSWORD": unquote(password),
        "HOST": ",".join(hosts),
        "PORT": ",".join(ports),
        "OPTIONS": options,
    }


# The key anyone can read in this file: daphne refuses to start on it with DEBUG off
# (dispatch/core/safety.py); make demo and make test write a random one into var/env.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Behind HAProxy / a TLS proxy: trust X-Forwarded-Proto so absolute URLs (and webhook
# signatures) use the public scheme.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "channels",
    "axes",
    # Two-factor sign-in (dispatch/core/two_factor.py): TOTP authenticator apps.
    "django_otp",
    "django_otp.plugins.otp_totp",
    # ... and a few one-time backup codes for a lost phone.
    "django_otp.plugins.otp_static",
    "hospitals",
    "fleet",
    "dispatch",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL character, absurdly nested JSON or a non-object API body: a 4xx before any view.
    "dispatch.core.inputs.RefuseMalformedInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Which second factor, if any, this session has passed; then the pages, the API and every
    # other request wait for the one the user still owes (dispatch/core/two_factor.py).
    "django_otp.middleware.OTPMiddleware",
    "dispatch.core.two_factor.SecondFactorMiddleware",
    # A screen account (a station's alert screen, the wallboard) opens its own pages and nothing else.
    "dispatch.core.screens.ScreenConfinementMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dispatch.core.errors.JsonErrorsForApiMiddleware",
    # API answers carry patient data: no browser or proxy keeps them (dispatch/core/privacy.py).
    "dispatch.core.privacy.NoStoreApiMiddleware",
    # Answers a locked-out sign-in (dispatch/core/signin.py) with its own page.
    "axes.middleware.AxesMiddleware",
    # Last: retries a request that met a database failover, only when that is safe.
    "dispatch.core.failover.FailoverRetryMiddleware",
]

ROOT_URLCONF = "dispatch.urls"
ASGI_APPLICATION = "dispatch.asgi.application"
AUTH_USER_MODEL = "dispatch.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dispatch.core.context.event_kinds",
                "dispatch.core.context.abilities",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch120"))
}
# ASGI: no persistent connections; Django's psycopg pool instead (docs/decisions/0001-django-lts.md).
if env_bool("DB_POOL", True):
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env_int("DB_POOL_MIN", 2),
        "max_size": env_int("DB_POOL_MAX", 20),
        "timeout": env_int("DB_POOL_TIMEOUT", 10),
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# How long a safe request keeps retrying while the database fails over (dispatch/core/failover.py).
FAILOVER_RETRY_SECONDS = float(env_str("FAILOVER_RETRY_SECONDS", "10"))
# The test database is named explicitly so daphne child processes of live-server tests find it.
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_dispatch120")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_SENTINELS = env_list("REDIS_SENTINELS")  # "host:port,host:port"
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER", "mymaster")
# With Sentinels: the Redis nodes' password (requirepass), and the Sentinels' own (the same
# unless set). With REDIS_URL the password is in the URL: redis://:password@host:port/0.
REDIS_PASSWORD = env_str("REDIS_PASSWORD", "")
REDIS_SENTINEL_PASSWORD = env_str("REDIS_SENTINEL_PASSWORD", REDIS_PASSWORD)


# channels_redis waits for a socket's next message with a 5 s blocking pop in Redis; redis-py
# gives every connection a 5 s socket timeout by default, so a quiet socket's wait raised
# TimeoutError and daphne closed it with 1011. The layer's connections wait longer than the pop.
CHANNEL_LAYER_SOCKET_TIMEOUT = 15


def channel_layer_hosts() -> list[dict]:
    if REDIS_SENTINELS:
        sentinels = [(h, int(p)) for h, _, p in (s.partition(":") for s in REDIS_SENTINELS)]
        return [
            {
                "sentinels": sentinels,
                "master_name": REDIS_SENTINEL_MASTER,
                "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT,
                "password": REDIS_PASSWORD or None,
                # Asking a Sentinel who the master is never blocks: a dead one is skipped fast.
                "sentinel_kwargs": {"socket_timeout": 2, "password": REDIS_SENTINEL_PASSWORD or None},
            }
        ]
    return [{"address": REDIS_URL, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT}]


# dispatch/asgi.py: how long a thread may hold the interpreter lock when another wants it.
INTERPRETER_SWITCH_INTERVAL_S = float(os.environ.get("INTERPRETER_SWITCH_INTERVAL_S", "0.0005"))
# dispatch/core/view_gate.py: Django requests served at once by one app process (0: no limit).
VIEW_CONCURRENCY = env_int("VIEW_CONCURRENCY", 4)

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": channel_layer_hosts(),
            "prefix": env_str("CHANNEL_PREFIX", "d120"),
            "capacity": 1000,
            "expiry": 30,
        },
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): after SIGN_IN_FAILURE_LIMIT wrong passwords a user name is
# locked, and so is the address they came from, each on its own, for SIGN_IN_LOCKOUT_MINUTES.
# A correct password meanwhile does not open it; every attempt is an audit event.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "dispatch.core.signin.lockout_page"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Behind HAProxy the client's address is the hop it added to X-Forwarded-For; anywhere else
# that header is the client's own word, so only the connection's address counts.
if BEHIND_PROXY:
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Two-factor sign-in (dispatch/core/two_factor.py): these roles must add a code from an
# authenticator app (TOTP) to their password, and are sent to set one up before anything else;
# anyone else may. A role named here that no one has changes nothing. The issuer is the name the
# app shows beside the code.
TWO_FACTOR_REQUIRED_ROLES = env_list("TWO_FACTOR_REQUIRED_ROLES", "admin,supervisor")
OTP_TOTP_ISSUER = env_str("TWO_FACTOR_ISSUER", "120 Dispatch")
# The admin lists and deletes users' devices (a lost phone) but never shows their secret keys.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# How long one sign-in lasts, by role, from the moment of signing in (not renewed by use): a
# control-room or crew shift is twelve hours, so a session outlives the shift it began by one
# hour of hand-over and then asks again; an ER board screen on the wall stays signed in for a
# month (its account reads only its own hospital's board); an administrator's, which can change
# every account, lasts a working morning.
SESSION_HOURS_BY_ROLE = {
    "dispatcher": env_int("SESSION_HOURS_CONTROL_ROOM", 13),
    "supervisor": env_int("SESSION_HOURS_CONTROL_ROOM", 13),
    "crew": env_int("SESSION_HOURS_CREW", 13),
    "hospital": env_int("SESSION_HOURS_HOSPITAL", 24 * 30),
    "admin": env_int("SESSION_HOURS_ADMIN", 4),
}
SESSION_COOKIE_AGE = max(SESSION_HOURS_BY_ROLE.values()) * 3600

# Requests per minute that one client address may make on the pages anyone can reach without
# signing in (dispatch/core/ratelimit.py): the sign-in form, and the location links sent by SMS.
# Counted in each app node; ops/ha/haproxy.cfg counts the same across the whole centre.
RATE_LIMITS_PER_MINUTE = {
    "sign_in": env_int("RATE_LIMIT_SIGN_IN", 20),
    "location_link": env_int("RATE_LIMIT_LOCATION_LINK", 30),
    # fixes naming no known tracker key (dispatch/positions): known keys are never limited
    "tracker_unknown": env_int("RATE_LIMIT_TRACKER_UNKNOWN", 60),
    # SMS a dispatcher sends from the console (/api/sms), counted per user, not per address
    "sms": env_int("RATE_LIMIT_SMS", 10),
}
# Networks (CIDRs, comma separated) whose trackers may name their unit by IMEI (Unit.tracker_id)
# alone, e.g. the trackers' private APN; anywhere else a tracker needs its unit's tracker key.
TRACKER_IMEI_NETWORKS = env_list("TRACKER_IMEI_NETWORKS")
for _network in TRACKER_IMEI_NETWORKS:
    ipaddress.ip_network(_network, strict=False)  # a typo stops the start, not every tracker

# How long personal data is kept, in days (dispatch/core/retention.py, run hourly by run_workers):
# stored replies to retried writes, raw caller-location payloads, the payloads of delivered
# outbox messages, full-detail position history (then one fix per unit every
# POSITION_KEPT_EVERY_SECONDS), and counters of refused tracker fixes.
RETENTION_DAYS = {
    "idempotency_replies": env_int("RETAIN_IDEMPOTENCY_DAYS", 7),
    "caller_location_payloads": env_int("RETAIN_CALLER_LOCATION_PAYLOAD_DAYS", 30),
    "outbox_payloads": env_int("RETAIN_OUTBOX_PAYLOAD_DAYS", 30),
    "position_detail": env_int("RETAIN_POSITION_DETAIL_DAYS", 90),
    "rejected_fixes": env_int("RETAIN_REJECTED_FIX_DAYS", 30),
}
POSITION_KEPT_EVERY_SECONDS = env_int("POSITION_KEPT_EVERY_SECONDS", 300)

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Browser libraries come from npm at install time (node_modules/ is not committed).
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/leaflet", BASE_DIR / "node_modules" / "leaflet" / "dist"),
]
SERVE_STATIC = env_bool("SERVE_STATIC", True)

# Domain settings.
STALE_POSITION_SECONDS = env_int("STALE_POSITION_SECONDS", 120)
# Every live socket re-checks its session, role and shift, and reads the event log, this often.
LIVE_HEARTBEAT_SECONDS = float(env_str("LIVE_HEARTBEAT_SECONDS", "10"))
# A unit with nobody on shift on it (fleet.CrewShift) is listed but not sent: no one would
# answer the alert. Off only for set-ups that cannot staff their units.
REQUIRE_CREW_ON_SHIFT = env_bool("REQUIRE_CREW_ON_SHIFT", True)
# The roster (dispatch/roster, decision 17): a crew member may start a shift this long before
# its planned start; an open shift ends by itself this long after its planned end; a
# supervisor's approval to start one without a roster entry must be used within this.
ROSTER_EARLY_START_MINUTES = env_int("ROSTER_EARLY_START_MINUTES", 30)
SHIFT_END_GRACE_MINUTES = env_int("SHIFT_END_GRACE_MINUTES", 30)
SHIFT_APPROVAL_MINUTES = env_int("SHIFT_APPROVAL_MINUTES", 15)
# Console clocks turn red past these (docs/targets.md): call to dispatch (受理+派车), dispatch to
# rolling (出车), and call to on scene by priority I..IV.
TARGET_PROCESSING_SECONDS = env_int("TARGET_PROCESSING_SECONDS", 60)
TARGET_TURNOUT_SECONDS = env_int("TARGET_TURNOUT_SECONDS", 180)
# A dispatched unit's crew acknowledges the job within this, or the console is alarmed (dispatch/alarms).
TARGET_UNIT_ACK_SECONDS = env_int("TARGET_UNIT_ACK_SECONDS", 60)
# Before that alarm, a job nobody acknowledged escalates (dispatch/alarms/scanner.py): an SMS,
# then a voice call, to the unit's phone this long after the dispatch.
CREW_ALERT_SMS_AFTER_SECONDS = env_int("CREW_ALERT_SMS_AFTER_SECONDS", 30)
CREW_ALERT_VOICE_AFTER_SECONDS = env_int("CREW_ALERT_VOICE_AFTER_SECONDS", 30)
TARGET_RESPONSE_SECONDS = {
    1: env_int("TARGET_RESPONSE_P1_SECONDS", 900),
    2: env_int("TARGET_RESPONSE_P2_SECONDS", 1200),
    3: env_int("TARGET_RESPONSE_P3_SECONDS", 1800),
    4: env_int("TARGET_RESPONSE_P4_SECONDS", 3600),
}
# A scene farther than this from every road of the active network is refused where it is set:
# a mis-dropped pin, not a patient (rural trails and beaches are well within it).
SCENE_MAX_OFF_ROAD_M = env_int("SCENE_MAX_OFF_ROAD_M", 5000)
DEMO_MODE = env_bool("DEMO_MODE", False)
# Major incidents (dispatch/major): declared by rule when an open incident reports this many
# patients or more, or its chief complaint holds one of these words; the level by patients
# reported, (at least, level) from the gravest down; who gets the declaration's SMS.
MAJOR_PATIENT_THRESHOLD = env_int("MAJOR_PATIENT_THRESHOLD", 5)
MAJOR_COMPLAINT_WORDS = env_list("MAJOR_COMPLAINT_WORDS", "群体伤,爆炸,坍塌,mass casualty,explosion,collapse")
MAJOR_LEVEL_BY_PATIENTS = ((50, 1), (30, 2), (10, 3), (0, 4))
MAJOR_INCIDENT_NOTIFY = env_list("MAJOR_INCIDENT_NOTIFY")
# Response-time report targets (dispatch.reports, docs/targets.md): interval -> ((within s, goal %), ...).
# REPORT_TARGETS="response=720:90;handover=900:65,1800:95" replaces the named intervals' targets.
REPORT_TARGETS = {
    "answer": ((10, 95),),  # over every call that rang, abandoned ones outside (dispatch/reports/calls.py)
    "processing": ((60, 90),),
    "turnout": ((180, 95),),  # 3分钟出车率 from the dispatch order
    "departure": ((180, 95),),  # ... and from call acceptance
    "travel": ((480, 90),),
    "response": ((900, 90),),
    "handover": ((900, 65), (1800, 95), (3600, 100)),
}
REPORT_TARGETS_OVERRIDE = env_str("REPORT_TARGETS", "")
# Response (call received to on scene) by priority, held as the NHS Ambulance Response Programme
# holds its categories, to a mean and a 90th centile in seconds (docs/targets.md): priority I as
# Category 1 (7 and 15 min), priority II as Category 2 (18 and 40 min); III and IV have none.
RESPONSE_TARGETS_BY_PRIORITY = {1: (420, 900), 2: (1080, 2400)}
# A year report runs its percentiles in this many parts at once (PostgreSQL workers, one per core).
REPORT_WORKERS = env_int("REPORT_WORKERS", 2)
# Live coverage (dispatch/coverage/live.py, docs/coverage-study.md): demand from this many days
# of incidents (plus a floor of this share spread by road density, for places without history),
# rebuilt this often; a free unit covers a node it reaches by road within the target (480 s: the
# 8-minute priority I travel target, docs/targets.md); the share of units taken as busy when
# counting expected uncovered demand.
COVERAGE_DEMAND_DAYS = env_int("COVERAGE_DEMAND_DAYS", 90)
COVERAGE_DEMAND_FLOOR = float(env_str("COVERAGE_DEMAND_FLOOR", "0.2"))
COVERAGE_REFRESH_SECONDS = env_int("COVERAGE_REFRESH_SECONDS", 300)
COVERAGE_TARGET_S = env_int("COVERAGE_TARGET_S", 480)
COVERAGE_BUSY_FRACTION = float(env_str("COVERAGE_BUSY_FRACTION", "0.2"))

# Calls in: telephony, SMS, caller location and the fallback geocoder (dispatch/calls/,
# dispatch/locate/geocoding.py). Empty values switch a provider off.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
# The <Client> identity every dispatcher's softphone registers with (all ring at once).
TWILIO_AGENT_CLIENT = env_str("TWILIO_AGENT_CLIENT", "dispatch")
# Where the REST client sends what it would send to *.twilio.com: an egress proxy, or a local
# server in tests. Twilio's edge/region settings cannot point anywhere else.
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL").rstrip("/")
SMS_PROVIDER = env_str("SMS_PROVIDER", "twilio")  # dispatch.calls.sms.PROVIDERS
# Mainland China's SMS providers (dispatch/calls/sms_providers/): a text goes out only through a
# template registered with the provider, the message as its one parameter (docs/decisions/0015).
# The endpoint overrides are for an egress proxy or a local server in tests (http://host:port).
ALIYUN_SMS_ACCESS_KEY_ID = env_str("ALIYUN_SMS_ACCESS_KEY_ID")
ALIYUN_SMS_ACCESS_KEY_SECRET = env_str("ALIYUN_SMS_ACCESS_KEY_SECRET")
ALIYUN_SMS_SIGN_NAME = env_str("ALIYUN_SMS_SIGN_NAME")
ALIYUN_SMS_TEMPLATE_CODE = env_str("ALIYUN_SMS_TEMPLATE_CODE")
ALIYUN_SMS_TEMPLATE_PARAM = env_str("ALIYUN_SMS_TEMPLATE_PARAM", "content")
ALIYUN_SMS_REGION = env_str("ALIYUN_SMS_REGION", "cn-hangzhou")
ALIYUN_SMS_ENDPOINT = env_str("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com").rstrip("/")
TENCENT_SMS_SECRET_ID = env_str("TENCENT_SMS_SECRET_ID")
TENCENT_SMS_SECRET_KEY = env_str("TENCENT_SMS_SECRET_KEY")
TENCENT_SMS_SDK_APP_ID = env_str("TENCENT_SMS_SDK_APP_ID")
TENCENT_SMS_SIGN_NAME = env_str("TENCENT_SMS_SIGN_NAME")
TENCENT_SMS_TEMPLATE_ID = env_str("TENCENT_SMS_TEMPLATE_ID")
TENCENT_SMS_REGION = env_str("TENCENT_SMS_REGION", "ap-guangzhou")
TENCENT_SMS_ENDPOINT = env_str("TENCENT_SMS_ENDPOINT", "https://sms.tencentcloudapi.com").rstrip("/")
# A template parameter longer than this is cut (0: never): providers limit a variable's length.
SMS_TEMPLATE_PARAM_MAX_CHARS = env_int("SMS_TEMPLATE_PARAM_MAX_CHARS", 0)
# Web Push to the crew tablets (dispatch/crew/push.py): the VAPID key pair (base64url, as
# `manage.py generate_vapid_keys` prints it) and the contact the push services may write to.
# Empty keys: no push; a crew alert goes by SMS to the unit's phone.
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:admin@localhost")
# Push endpoints must be https (a browser's push service always is); tests point at local http.
PUSH_ALLOW_HTTP_ENDPOINTS = env_bool("PUSH_ALLOW_HTTP_ENDPOINTS", False)
PBX_SHARED_SECRET = env_str("PBX_SHARED_SECRET")
# Where a missed call is called back through the PBX (click-to-call, dispatch/calls/telephony/pbx.py):
# the PBX rings the dispatcher's extension, then the caller. Empty: a PBX call cannot be called back.
PBX_CLICK_TO_CALL_URL = env_str("PBX_CLICK_TO_CALL_URL")
# The console's missed-call list (dispatch/calls/callbacks.py) shows calls missed in the last hours.
CALL_BACK_LIST_HOURS = env_int("CALL_BACK_LIST_HOURS", 24)
# Who places the crew alert's voice calls (dispatch/calls/telephony/voice.py): "twilio", or "pbx"
# (the PBX webhook has no outbound-call API: such a call fails at once and says so).
VOICE_PROVIDER = env_str("VOICE_PROVIDER", "twilio")
AML_SHARED_SECRET = env_str("AML_SHARED_SECRET")
# The address callers and Twilio see (https://120.example.cn): webhook signatures are checked
# against it, and SMS links point at it. Empty: the request's own scheme and host.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").rstrip("/")
# Served over https (the public address says so): cookies only over TLS, HSTS for a year, plain
# http redirected, except the health probe and trackers' fixes, which HAProxy and APN trackers
# may send in the clear inside the centre's network.
if PUBLIC_BASE_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^api/osmand"]
CALL_ESCALATION_SECONDS = env_int("CALL_ESCALATION_SECONDS", 10)
LOCATION_LINK_MINUTES = env_int("LOCATION_LINK_MINUTES", 30)
# Location links texted for one call at most (a fourth is refused: a caller is not spammed).
LOCATION_LINKS_PER_CALL = env_int("LOCATION_LINKS_PER_CALL", 3)
# An AML message is matched to the call from the same number within this window.
AML_MATCH_MINUTES = env_int("AML_MATCH_MINUTES", 30)
GEOCODER = env_str("GEOCODER")  # "", "nominatim", "amap" or "baidu"
GEOCODER_URL = env_str("GEOCODER_URL")
GEOCODER_KEY = env_str("GEOCODER_KEY")
GEOCODER_TIMEOUT_MS = env_int("GEOCODER_TIMEOUT_MS", 1500)

# The outbox's channels: each module registers its sender when the outbox worker imports it
# (dispatch.core.outbox); core itself knows no channel.
OUTBOX_CHANNEL_MODULES = ["dispatch.calls.sms", "dispatch.calls.crew_alerts", "dispatch.handoff.delivery"]
OUTBOX_CHANNEL_MODULES += ["dispatch.calls.telephony.voice"]  # "crew_voice": the unit's phone rings

# Hospital handoff (dispatch/handoff/, hospitals/fhir.py): a pre-arrival notice
# nobody at the ER has acknowledged after this many seconds alerts the console to phone them.
NOTICE_ACK_ALERT_SECONDS = env_int("NOTICE_ACK_ALERT_SECONDS", 120)
# The ER board keeps a handed-over patient (and the link to the care record) this many minutes.
ER_HANDED_OVER_VISIBLE_MINUTES = env_int("ER_HANDED_OVER_VISIBLE_MINUTES", 30)
# Crew tablet (dispatch/crew/): a status tapped by mistake may be undone for this many seconds.
UNDO_STATUS_SECONDS = env_int("UNDO_STATUS_SECONDS", 20)
# Seals the secrets the system stores to send on (hospitals' FHIR client secrets): a Fernet key,
# written into var/env by make demo and make test (hospitals/secrets.py).
DATA_ENCRYPTION_KEY = env_str("DATA_ENCRYPTION_KEY")
# One POST of a FHIR Bundle to a hospital's endpoint gives up after this (then the outbox retries).
FHIR_TIMEOUT_SECONDS = float(env_str("FHIR_TIMEOUT_SECONDS", "10"))

# GDAL 3.6 (Debian 12) cannot block file and network access in spatial references; we never
# parse spatial references from users, only EPSG:4326 points.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# The access log (dispatch/core/access_log.py) goes to ACCESS_LOG_FILE when set, else with the
# rest to standard error. Daphne's own (--access-log) would write tokens and phone numbers: unused.
ACCESS_LOG_FILE = env_str("ACCESS_LOG_FILE", "")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        # Django's own lines about requests name their paths: scrubbed like the access log's.
        "console": {"class": "logging.StreamHandler", "filters": ["scrubbed_paths"]},
        "access": (
            {"class": "logging.FileHandler", "filename": ACCESS_LOG_FILE, "formatter": "access"}
            if ACCESS_LOG_FILE
            else {"class": "logging.StreamHandler", "formatter": "access"}
        ),
    },
    "formatters": {"access": {"format": "%(asctime)s %(message)s"}},
    "filters": {"scrubbed_paths": {"()": "dispatch.core.access_log.ScrubbedPaths"}},
    "loggers": {"dispatch.access": {"handlers": ["access"], "level": "INFO", "propagate": False}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# ---- Content-Security-Policy (django-csp 4.0; dispatch/core/csp.py adds what depends on the request) ----
# Scripts run only from our own files, so a value echoed into a page by mistake cannot run.
# Pages carry their data in <script type="application/json"> (json_script): data, which CSP
# does not block. Inline style attributes stay allowed: the templates and Leaflet set them.
# Images: our files, and data:/blob: URLs (Leaflet's and the browser's own); there is no tile
# server (the maps draw our own roads). The admin's location map alone loads OpenLayers and its
# tiles from outside (dispatch/core/csp.py). No report-uri: nothing here would collect the reports.
INSTALLED_APPS += [
    "csp",
    # django-ninja's Swagger page (/api/docs/) then comes from the app's own static files and a
    # script file; without the app it loads Swagger from a CDN with an inline script.
    "ninja",
    # Form widgets render through TEMPLATES, so templates/gis/openlayers.html (the admin's map
    # for location fields, without Django's inline script) replaces Django's own.
    "django.forms",
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
# Right after SecurityMiddleware: the header goes on every response, the API's JSON errors too.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "dispatch.core.csp.CSPMiddleware"
)


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
