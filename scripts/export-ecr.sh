#!/bin/sh
# export-ecr.sh: export the ECR repository policies of one or more AWS accounts, read-only, in
# the layout `ecr-audit scan` reads. POSIX sh and the AWS CLI (v1 or v2); `xargs -P` for
# parallel requests (GNU, BSD and busybox xargs all have it).
#
#   scripts/export-ecr.sh [-o DIR] [-p PROFILE]... [-r REGION]... [-j JOBS] [-n ATTEMPTS]
#
#   -o DIR      where to write (default: ./ecr-export)
#   -p PROFILE  an AWS CLI profile to export; repeatable (default: the current credentials)
#   -r REGION   a region to export; repeatable (default: every region enabled for the account,
#               as `aws ec2 describe-regions` lists them)
#   -j JOBS     requests in flight at once (default: 8)
#   -n ATTEMPTS attempts per request when AWS throttles it (default: 6; exponential backoff)
#
# It writes, per account and region:
#   DIR/ACCOUNT/REGION/describe-repositories.json        (page 1; later pages .page-N.json)
#   DIR/ACCOUNT/REGION/repositories/NAME.json            one per repository (NAME keeps its
#       slashes): `get-repository-policy` output; for a repository without a policy, the
#       RepositoryPolicyNotFoundException marker (a no-policy row); for one whose policy could
#       not be read (access denied, ...), an error marker naming the repository (an error row,
#       never taken for "no policy")
#   DIR/ACCOUNT/REGION/registry-policy.json              `get-registry-policy` (absent when the
#       registry has none)
#   DIR/ACCOUNT/REGION/registry-policy-scope.json        `get-account-setting --name
#       REGISTRY_POLICY_SCOPE`, with the registry and region it belongs to
#   DIR/manifest.tsv                                     every request's outcome
#
# Only read-only calls are made: sts get-caller-identity, ec2 describe-regions, ecr
# describe-repositories, get-repository-policy, get-registry-policy, get-account-setting.
# Exit status: 0 everything was exported; 1 something failed (see manifest.tsv; the scan shows
# each failure as an error row); 2 usage error.
#
# Environment: ECR_EXPORT_PAGE_SIZE (repositories per describe-repositories page, default 1000),
# ECR_EXPORT_BACKOFF (first retry delay in seconds, default 1; doubled per attempt, at most 60).

set -u

usage() {
    sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

# --- One request, retried while AWS throttles it -------------------------------------------------

# call OUT ERR ARGS...: runs `aws ARGS...`, standard output to OUT (only when it succeeds),
# standard error to ERR. A throttled request is retried with exponential backoff.
call() {
    out=$1
    err=$2
    shift 2
    attempt=1
    delay=${ECR_EXPORT_BACKOFF:-1}
    while :; do
        if aws "$@" >"$out.part" 2>"$err"; then
            mv "$out.part" "$out"
            return 0
        fi
        rm -f "$out.part"
        if [ "$attempt" -ge "$ATTEMPTS" ] || ! throttled "$err"; then
            return 1
        fi
        # Jitter from the process id, so that parallel workers do not retry in step.
        sleep $((delay + $$ % (delay + 1)))
        attempt=$((attempt + 1))
        delay=$((delay * 2))
        [ "$delay" -gt 60 ] && delay=60
    done
}

throttled() {
    grep -Eq '\((Throttling|ThrottlingException|ThrottledException|TooManyRequestsException|RequestLimitExceeded|RequestThrottled|RequestThrottledException|ProvisionedThroughputExceededException|SlowDown|ServiceUnavailable|ServiceUnavailableException|ServerException|InternalFailure)\)|Rate exceeded' "$1"
}

# The error code of a failed call: `An error occurred (Code) when calling ...` → Code.
error_code() {
    sed -n 's/.*An error occurred (\([A-Za-z0-9.#:]*\)).*/\1/p' "$1" | head -n 1
}

# The error's message as a JSON string body (quotes and backslashes escaped, one line).
error_message() {
    tr '\n\t\r' '   ' <"$1" | sed 's/[[:space:]]*$//; s/\\/\\\\/g; s/"/\\"/g'
}

# record ACCOUNT REGION WHAT NAME STATUS DETAIL: one line of the manifest. Each worker writes its
# own file (no two processes append to one), joined at the end.
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$WORK/manifest.$$"
}

# with_fields FILE FIELDS: adds `FIELDS` (JSON members) to the object in FILE, at its start.
with_fields() {
    sed '1s/^\([[:space:]]*\){/\1{'"$2"', /' "$1" >"$1.part" && mv "$1.part" "$1"
}

# --- The repository policy of one repository (run by the workers) --------------------------------

one_repository() {
    account=$1
    region=$2
    name=$3
    dir="$OUT/$account/$region/repositories"
    file="$dir/$name.json"
    mkdir -p "$(dirname "$file")"
    err="$WORK/err.$$"
    if call "$file" "$err" ecr get-repository-policy $PROFILE_ARG --region "$region" \
        --registry-id "$account" --repository-name "$name" --output json; then
        with_fields "$file" "\"region\": \"$region\""
        record "$account" "$region" repository-policy "$name" exported ""
        return 0
    fi
    code=$(error_code "$err")
    message=$(error_message "$err")
    [ -n "$code" ] || code=ExportFailed
    printf '{"__type": "%s", "registryId": "%s", "region": "%s", "repositoryName": "%s", "message": "%s"}\n' \
        "$code" "$account" "$region" "$name" "$message" >"$file"
    if [ "$code" = RepositoryPolicyNotFoundException ]; then
        record "$account" "$region" repository-policy "$name" no-policy ""
    else
        record "$account" "$region" repository-policy "$name" failed "$code: $message"
    fi
}

# --- One account and region ----------------------------------------------------------------------

# The repository names of a describe-repositories page. ECR names are lower-case letters,
# digits and . _ - / only, so they need no JSON unescaping.
names() {
    grep -o '"repositoryName"[[:space:]]*:[[:space:]]*"[^"]*"' "$1" | sed 's/.*"\([^"]*\)"$/\1/'
}

next_token() {
    tr -d '\n' <"$1" | grep -o '"NextToken"[[:space:]]*:[[:space:]]*"[^"]*"' |
        sed 's/.*"\([^"]*\)"$/\1/' | head -n 1
}

export_region() {
    account=$1
    region=$2
    dir="$OUT/$account/$region"
    mkdir -p "$dir"
    err="$WORK/err.$$"
    list="$WORK/names.$account.$region"
    : >"$list"
    # Page by page, so that a throttled page is retried alone (the CLI's own paging would start
    # over). Page 1 is describe-repositories.json, page N describe-repositories.page-N.json.
    page=1
    token=""
    listed=yes
    while :; do
        if [ "$page" -eq 1 ]; then file="$dir/describe-repositories.json"; else file="$dir/describe-repositories.page-$page.json"; fi
        set -- ecr describe-repositories $PROFILE_ARG --region "$region" --registry-id "$account" \
            --max-items "${ECR_EXPORT_PAGE_SIZE:-1000}" --output json
        [ -n "$token" ] && set -- "$@" --starting-token "$token"
        if ! call "$file" "$err" "$@"; then
            code=$(error_code "$err")
            [ -n "$code" ] || code=ExportFailed
            # An error marker in the inventory's place: the scan shows it as an error row.
            printf '{"__type": "%s", "registryId": "%s", "region": "%s", "message": "%s"}\n' \
                "$code" "$account" "$region" "$(error_message "$err")" >"$file"
            record "$account" "$region" repositories "" failed "$code: page $page: $(error_message "$err")"
            listed=no
            break
        fi
        names "$file" >>"$list"
        token=$(next_token "$file")
        [ -n "$token" ] || break
        page=$((page + 1))
    done
    count=$(wc -l <"$list" | tr -d ' ')
    if [ "$listed" = yes ]; then
        record "$account" "$region" repositories "" exported "$count repositories, $page page(s)"
    fi

    # Every repository's policy, JOBS at a time.
    if [ "$count" -gt 0 ]; then
        sed "s/^/$account $region /" "$list" | xargs -n 3 -P "$JOBS" sh "$0" --one-repository
    fi

    if call "$dir/registry-policy.json" "$err" ecr get-registry-policy $PROFILE_ARG --region "$region" \
        --output json; then
        with_fields "$dir/registry-policy.json" "\"region\": \"$region\""
        record "$account" "$region" registry-policy "" exported ""
    elif [ "$(error_code "$err")" = RegistryPolicyNotFoundException ]; then
        record "$account" "$region" registry-policy "" none "the registry has no registry policy"
    else
        code=$(error_code "$err")
        [ -n "$code" ] || code=ExportFailed
        printf '{"__type": "%s", "registryId": "%s", "region": "%s", "message": "%s"}\n' \
            "$code" "$account" "$region" "$(error_message "$err")" >"$dir/registry-policy.json"
        record "$account" "$region" registry-policy "" failed "$code: $(error_message "$err")"
    fi

    if call "$dir/registry-policy-scope.json" "$err" ecr get-account-setting $PROFILE_ARG \
        --region "$region" --name REGISTRY_POLICY_SCOPE --output json; then
        with_fields "$dir/registry-policy-scope.json" "\"registryId\": \"$account\", \"region\": \"$region\""
        record "$account" "$region" registry-policy-scope "" exported ""
    else
        code=$(error_code "$err")
        [ -n "$code" ] || code=ExportFailed
        record "$account" "$region" registry-policy-scope "" failed "$code: $(error_message "$err")"
    fi
}

export_profile() {
    err="$WORK/err.$$"
    identity="$WORK/identity"
    if ! call "$identity" "$err" sts get-caller-identity $PROFILE_ARG --query Account --output text; then
        record "" "" account "${PROFILE:-default}" failed "$(error_message "$err")"
        return
    fi
    account=$(tr -d ' \t\r\n' <"$identity")
    case $account in
    [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
    *)
        record "" "" account "${PROFILE:-default}" failed "not an account id: $account"
        return
        ;;
    esac
    regions=$REGIONS
    if [ -z "$regions" ]; then
        # The regions enabled for this account (opt-in regions only once opted in).
        if ! call "$identity" "$err" ec2 describe-regions $PROFILE_ARG \
            --query 'Regions[].RegionName' --output text; then
            record "$account" "" regions "" failed "$(error_message "$err")"
            return
        fi
        regions=$(tr '\t' ' ' <"$identity")
    fi
    for region in $regions; do
        echo "export-ecr: $account $region" >&2
        export_region "$account" "$region"
    done
}

# --- Main ----------------------------------------------------------------------------------------

if [ "${1:-}" = --one-repository ]; then
    shift
    one_repository "$@"
    exit 0
fi

OUT=./ecr-export
PROFILES=""
REGIONS=""
JOBS=8
ATTEMPTS=6
while getopts o:p:r:j:n:h opt; do
    case $opt in
    o) OUT=$OPTARG ;;
    p) PROFILES="$PROFILES $OPTARG" ;;
    r) REGIONS="$REGIONS $OPTARG" ;;
    j) JOBS=$OPTARG ;;
    n) ATTEMPTS=$OPTARG ;;
    h) usage 0 ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
case $JOBS$ATTEMPTS in *[!0-9]*) usage ;; esac
[ "$JOBS" -ge 1 ] && [ "$ATTEMPTS" -ge 1 ] || usage
command -v aws >/dev/null 2>&1 || {
    echo "export-ecr: the AWS CLI (aws) is not on the PATH" >&2
    exit 2
}

mkdir -p "$OUT" || exit 2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/export-ecr.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
export OUT WORK ATTEMPTS

if [ -z "$PROFILES" ]; then
    PROFILE="" PROFILE_ARG=""
    export PROFILE PROFILE_ARG
    export_profile
else
    for PROFILE in $PROFILES; do
        PROFILE_ARG="--profile $PROFILE"
        export PROFILE PROFILE_ARG
        export_profile
    done
fi

{
    printf 'account\tregion\twhat\trepository\tstatus\tdetail\n'
    cat "$WORK"/manifest.* 2>/dev/null | sort
} >"$OUT/manifest.tsv"

failed=$(awk -F '\t' 'NR > 1 && $5 == "failed"' "$OUT/manifest.tsv" | wc -l | tr -d ' ')
policies=$(awk -F '\t' '$3 == "repository-policy"' "$OUT/manifest.tsv" | wc -l | tr -d ' ')
echo "export-ecr: $policies repositories, $failed failed request(s); see $OUT/manifest.tsv" >&2
[ "$failed" -eq 0 ]
