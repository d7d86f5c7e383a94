# The jq peer of `ecr-audit scan` (scripts/bench.sh): a fair, minimal version of the job, one CSV
# line per record. Input: a get-repository-policy file or a JSON Lines record (an object whose
# `policyText` holds the policy, decoded when it is a string), or a bare policy document.
# For each of the three pull actions it says whether the account $account may call it: some
# Allow statement whose Principal names the account (or "*") and whose Action matches, and no
# Deny statement without a Condition that names the account (or "*") and matches. A pattern
# matches an action when equal or, for a trailing `*`, when the action starts with the rest; a
# pattern written in lower case after `ecr:` is folded first (jq 1.6's ascii_downcase is written
# in jq: folding every pattern would be most of the run). Conditions of Allow statements,
# NotPrincipal, NotAction and resources are ignored: far less than the tool judges, so the
# ratio flatters jq.
def pulls: [["ecr:BatchCheckLayerAvailability", "ecr:batchchecklayeravailability"],
  ["ecr:BatchGetImage", "ecr:batchgetimage"], ["ecr:GetDownloadUrlForLayer", "ecr:getdownloadurlforlayer"]];
def list: if type == "array" then .[] else . end;
def names($account): [.Principal | .. | strings] | any(. == "*" or contains($account));
def prefix_of($action): endswith("*") and ($action | startswith(.[:-1]));
# Does the pattern (input) match the action ($action, and $lower in lower case)?
def matches($action; $lower):
  . == $action or . == "*" or . == "ecr:*" or prefix_of($action)
  or ((.[4:5] | . >= "a" and . <= "z")
      and (ascii_downcase | . == $lower or prefix_of($lower)));
(if type == "object" and has("policyText") then . else {policyText: .} end) as $record
| ($record.policyText | if type == "string" then fromjson else . end) as $policy
| [$policy.Statement | list | select(type == "object" and names($account))
   | {effect: .Effect, conditional: has("Condition"), actions: [.Action | list | strings]}]
  as $statements
| [pulls[] as [$a, $l]
   | any($statements[]; .effect == "Allow" and any(.actions[]; matches($a; $l)))
     and (any($statements[]; .effect == "Deny" and (.conditional | not)
            and any(.actions[]; matches($a; $l))) | not)]
| [input_filename, $record.registryId, $record.region, $record.repositoryName,
   (if all then "pull" elif any then "partial" else "none" end)]
| @csv
