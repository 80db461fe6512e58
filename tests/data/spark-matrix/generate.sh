#!/bin/bash
# generate.sh - records the fake spark-submit's client output of each Spark
# release (3.3, 3.4, 3.5, 4.0) in each cluster mode (yarn, k8s,
# standalone) into VERSION/MODE/SCENARIO.txt (stderr and stdout as a
# terminal shows them), and writes `expected`: what each transcript must
# give the agent's parser (agent/spark_output.c) and classifier
# (common/diagnose.c). tests/unit/test_spark_matrix.c checks it;
# docs/compatibility.md is generated from the results (make docs).
# The expectations are the scenarios' own (what the application did), not
# the parser's answers: run this again only when the fake changes.
set -eu
cd "$(dirname "$0")"
FAKE=../../fakes/spark-submit
COMMON="--conf spark.fake.duration=0.3 --conf spark.fake.interval=0.1 --conf spark.fake.seed=1"

{
	echo "# Expected results of the transcripts, checked by tests/unit/test_spark_matrix.c."
	echo "# Written by generate.sh. One transcript a line:"
	echo "#   version mode file exit app_id_prefix result class"
	echo "# exit: spark-submit's exit code; result: succeeded, failed or killed as"
	echo "# spark_watch_result gives it; class: the diagnosis of a failure (- for none)"
} >expected

# rec VERSION MODE NAME APP RESULT CLASS -- SPARK_SUBMIT_ARGS...
rec() {
	local v=$1 mode=$2 name=$3 app=$4 result=$5 class=$6 code=0
	shift 7
	mkdir -p "$v/$mode"
	# shellcheck disable=SC2086
	"$FAKE" --conf spark.fake.version="$v" $COMMON "$@" >"$v/$mode/$name.txt" 2>&1 || code=$?
	echo "$v $mode $name.txt $code $app $result $class" >>expected
}

fail() { echo "--conf spark.fake.outcome=fail --conf spark.fake.signature=$1"; }

for v in 3.3 3.4 3.5 4.0; do
	y="--master yarn --deploy-mode cluster --class com.acme.etl.Main"
	# shellcheck disable=SC2046,SC2086
	{
	rec $v yarn success application_ succeeded - -- $y app.jar
	rec $v yarn failure-oom application_ failed executor_oom -- $y $(fail executor_oom) app.jar
	rec $v yarn failure-input-missing application_ failed input_missing -- $y $(fail input_missing) app.jar
	rec $v yarn failure-memory-kill application_ failed yarn_memory_kill -- $y $(fail yarn_memory_kill) app.jar
	rec $v yarn killed application_ killed - -- $y --conf spark.fake.outcome=killed app.jar
	k="--master k8s://https://kube.internal:6443 --deploy-mode cluster --name etl"
	rec $v k8s success spark- succeeded - -- $k app.jar
	rec $v k8s failure-oom spark- failed executor_oom -- $k $(fail executor_oom) app.jar
	rec $v k8s failure-oomkilled spark- failed k8s_oomkilled -- $k $(fail k8s_oomkilled) app.jar
	rec $v k8s failure-input-missing spark- failed input_missing -- $k $(fail input_missing) app.jar
	rec $v k8s detached spark- failed - -- $k \
		--conf spark.kubernetes.submission.waitAppCompletion=false app.jar
	s="--master spark://master.internal:7077 --deploy-mode cluster --class com.acme.etl.Main"
	w="--conf spark.standalone.submit.waitAppCompletion=true"
	rec $v standalone success driver- succeeded - -- $s $w app.jar
	rec $v standalone failure driver- failed unknown -- $s $w $(fail executor_oom) app.jar
	rec $v standalone killed driver- killed - -- $s $w --conf spark.fake.outcome=killed app.jar
	rec $v standalone detached driver- failed - -- $s app.jar
	}
done
# 4.0's structured logging (JSON records), where an operator turns it on
j="--conf spark.log.structuredLogging.enabled=true"
# shellcheck disable=SC2046,SC2086
{
rec 4.0 yarn success-structured application_ succeeded - -- \
	--master yarn --deploy-mode cluster $j app.jar
rec 4.0 yarn failure-oom-structured application_ failed executor_oom -- \
	--master yarn --deploy-mode cluster $j $(fail executor_oom) app.jar
rec 4.0 k8s failure-oomkilled-structured spark- failed k8s_oomkilled -- \
	--master k8s://https://kube.internal:6443 --deploy-mode cluster $j \
	$(fail k8s_oomkilled) app.jar
}
