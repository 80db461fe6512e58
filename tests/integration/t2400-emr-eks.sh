#!/bin/bash
# The EMR on EKS code of the agent (agent/emr.h, aws_creds.h, aws_http.h)
# against the fakes of tests/fakes/aws, which verify every SigV4 signature:
# a run that succeeds, one that fails with an executor OOM in its driver
# log (fetched from the fake S3 and classified), a cancel, a throttled and
# a lost StartJobRun retried with the same clientToken starting exactly one
# job, web identity credentials refreshed mid-run (STS issued twice), IMDSv2
# credentials, a wrong secret refused with a clear error, a profile from the
# shared credentials file, and the IAM policy granting exactly the actions
# the code can call. Driven by sp-emr-drive, without a scheduler.
. "$(dirname "$0")/lib.sh"

AK=AKIDSPARKPILOTTEST01
SK=wJalrXUtnFEMIK7MDENGbPxRfiCYsparkpilot
VC=vc0123456789abcdefghijklm
DRIVE=${SP_EMR_DRIVE:-$BIN/sp-emr-drive} # (an ASan build: SP_EMR_DRIVE=...)
[ -x "$DRIVE" ] || fail "no $DRIVE (make tools)"

# start_fake NAME ARGS...: a fake of its own (fresh counters); sets URL.
start_fake() {
	local name=$1
	shift
	"$ROOT/tests/fakes/aws" --access-key "$AK" --secret-key "$SK" --vc "$VC" \
		"$@" >"$T/$name.port" 2>"$T/$name.log" &
	PIDS+=($!)
	wait_until 10 grep -q listening "$T/$name.port" ||
		fail "fake $name did not start"
	URL=http://127.0.0.1:$(awk '{print $3}' "$T/$name.port")
}

stat() { # KEY: a counter of the current fake
	fetch "$URL/_fake/stats" | json "$1"
}

# drive ENV... -- ARGS...: sp-emr-drive in a clean environment (no host
# credentials or ~/.aws), with the endpoints of the current fake.
drive() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env -i PATH="$PATH" HOME="$T/home" "${envs[@]}" "$DRIVE" \
		--endpoint "$URL" --s3 "$URL" --sts "$URL" --imds "$URL" \
		--vc "$VC" --log-uri s3://logs/emr --poll-ms 50 "$@"
}
keys() { drive AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK -- "$@"; }
mkdir -p "$T/home"

# 1. success, and the driver's stdout fetched
start_fake ok
out=$(keys --run 1 run --class org.example.Pi s3://code/pi.jar 100) ||
	fail "run: $out"
grep -qx 'state=COMPLETED' <<<"$out" || fail "success: $out"
grep -q '^log: 1 Pi is roughly' <<<"$out" || fail "stdout log: $out"
keys check | grep -qx 'cluster=RUNNING' || fail "DescribeVirtualCluster"

# 2. executor OOM: the driver's stderr.gz from S3, redacted and classified
out=$(keys --run 2 run --conf spark.fake.outcome=oom s3://code/etl.jar) ||
	fail "oom run: $out"
grep -qx 'state=FAILED' <<<"$out" || fail "oom state: $out"
grep -qx 'reason=USER_ERROR' <<<"$out" || fail "oom reason: $out"
grep -qx 'category=executor_oom' <<<"$out" || fail "oom class: $out"
grep -q '^line=.*OutOfMemoryError: Java heap space' <<<"$out" ||
	fail "oom line: $out"
[ "$(stat sig_failures)" = 0 ] || fail "a request was badly signed"

# 3. failureReason decides when the log does not
out=$(keys --run 3 run --conf spark.fake.outcome=cluster s3://code/x.jar) ||
	fail "cluster run: $out"
grep -qx 'category=no_resources' <<<"$out" || fail "cluster: $out"

# 4. cancel a long run
out=$(keys --run 4 cancel --conf spark.fake.outcome=long s3://code/x.jar) ||
	fail "cancel: $out"
grep -qx 'state=CANCELLED' <<<"$out" || fail "cancel state: $out"
[ "$(stat cancels)" = 1 ] || fail "cancels: $(stat cancels)"

# 5. the same clientToken with other parameters: a ValidationException,
#    one clear line
out=$(keys --run 1 run --class org.example.Other s3://code/pi.jar) &&
	fail "token reuse accepted: $out"
grep -q '^error: start: emr-containers StartJobRun: ValidationException: clientToken' <<<"$out" ||
	fail "validation error: $out"

# 6. throttled twice, then created but the answer lost (HTTP 500): the
#    retries carry the same clientToken and exactly one job starts
start_fake throttle --throttle-start 2 --lose-start 1
out=$(keys --run 7 run s3://code/pi.jar) || fail "throttled run: $out"
grep -qx 'state=COMPLETED' <<<"$out" || fail "throttled: $out"
[ "$(stat throttled)" = 2 ] || fail "throttled: $(stat throttled)"
[ "$(stat start_calls)" = 4 ] || fail "start calls: $(stat start_calls)"
[ "$(stat jobs_created)" = 1 ] || fail "jobs created: $(stat jobs_created)"

# 7. web identity (IRSA): STS credentials valid for 302 s are renewed 300 s
#    before they expire, so a run polled for 3 s gets them twice
echo "eyJhbGciOiJSUzI1NiJ9.fake-projected-token.sig" >"$T/token"
start_fake sts --sts-ttl 302 --run-polls 60 --web-token "$T/token"
out=$(drive AWS_WEB_IDENTITY_TOKEN_FILE="$T/token" \
	AWS_ROLE_ARN=arn:aws:iam::111122223333:role/sparkpilot-agent -- \
	--run 8 run s3://code/pi.jar) || fail "web identity run: $out"
grep -qx 'state=COMPLETED' <<<"$out" || fail "web identity: $out"
[ "$(stat sts_issued)" -ge 2 ] || fail "sts issued $(stat sts_issued)"
[ "$(stat sig_failures)" = 0 ] || fail "STS credentials badly used"
echo "wrong" >"$T/badtoken"
out=$(drive AWS_WEB_IDENTITY_TOKEN_FILE="$T/badtoken" \
	AWS_ROLE_ARN=arn:aws:iam::111122223333:role/x -- creds) &&
	fail "bad web identity token accepted"
grep -q 'InvalidIdentityToken' <<<"$out" || fail "sts error: $out"

# 8. IMDSv2: nothing else configured
out=$(drive -- creds) || fail "imds: $out"
grep -qx 'source=imds' <<<"$out" || fail "imds source: $out"
out=$(drive -- --run 9 run s3://code/pi.jar) || fail "imds run: $out"
[ "$(stat imds_issued)" -ge 1 ] || fail "imds issued"

# 9. a wrong secret: refused by the signature check, said in one line that
#    names the error type, the secret never printed
out=$(drive AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=NotTheSecret123 -- \
	--run 10 run s3://code/pi.jar) && fail "wrong secret accepted"
grep -q '^error: start: emr-containers StartJobRun: InvalidSignatureException: The request signature' <<<"$out" ||
	fail "wrong secret error: $out"
grep -q NotTheSecret <<<"$out" && fail "secret printed: $out"
out=$(drive AWS_ACCESS_KEY_ID=AKIDUNKNOWN AWS_SECRET_ACCESS_KEY=x -- \
	check) && fail "unknown key accepted"
grep -q 'UnrecognizedClientException' <<<"$out" || fail "unknown: $out"
out=$(keys --vc vcdoesnotexist0000000000 check) && fail "unknown cluster"
grep -q 'ResourceNotFoundException' <<<"$out" || fail "404: $out"

# 10. a profile of the shared credentials file
cat >"$T/credentials" <<EOF
[default]
aws_access_key_id = AKIDWRONGDEFAULT
aws_secret_access_key = nope

[sparkpilot]
aws_access_key_id = $AK
aws_secret_access_key = $SK
EOF
out=$(drive AWS_SHARED_CREDENTIALS_FILE="$T/credentials" \
	AWS_PROFILE=sparkpilot -- check) || fail "profile: $out"
out=$(drive AWS_SHARED_CREDENTIALS_FILE="$T/credentials" \
	AWS_PROFILE=sparkpilot -- creds)
grep -qx 'source=profile sparkpilot' <<<"$out" || fail "profile: $out"
out=$(drive AWS_PROFILE=missing -- creds) && fail "missing profile accepted"
grep -q "AWS_PROFILE 'missing'" <<<"$out" || fail "missing profile: $out"

# 11. the BYOC-Lite policy grants exactly the actions the code calls, and
#     the CloudFormation role the same plus its IRSA trust
"$DRIVE" actions | sort -u >"$T/want"
"$DRIVE" actions --trust | sort -u >"$T/want-trust"
python3 - "$ROOT/deploy/aws" "$T" <<'PY' || fail "IAM policy and code differ"
import json, sys
d, t = sys.argv[1], sys.argv[2]
want = open(t + "/want").read().split()
trust = open(t + "/want-trust").read().split()
def actions(doc):
    acts = set()
    for s in doc["Statement"]:
        a = s["Action"]
        acts.update([a] if isinstance(a, str) else a)
    return sorted(acts)
have = actions(json.load(open(d + "/byoc-lite-iam.json")))
if have != want:
    sys.exit("byoc-lite-iam.json: %s, the code: %s" % (have, want))
try:
    import yaml
except ImportError:
    sys.exit(0)  # the JSON is checked; PyYAML is optional
class L(yaml.SafeLoader):
    pass
L.add_multi_constructor("!", lambda l, s, n: l.construct_scalar(n)
                        if isinstance(n, yaml.ScalarNode)
                        else l.construct_sequence(n))
cfn = yaml.load(open(d + "/customer-bootstrap-byoc-lite.yaml"), Loader=L)
role = cfn["Resources"]["AgentRole"]["Properties"]
if actions(role["Policies"][0]["PolicyDocument"]) != want:
    sys.exit("the CloudFormation role's policy differs from the code")
if actions(json.loads(role["AssumeRolePolicyDocument"])) != trust:
    sys.exit("the CloudFormation trust policy differs from the code")
PY
echo "t2400: ok"
