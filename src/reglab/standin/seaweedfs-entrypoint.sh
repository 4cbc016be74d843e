#!/bin/sh
# The chrislusf/seaweedfs entrypoint's behaviour, in reglab's words: the first word names the
# server and gets the real image's default flags (data in /data); the rest are passed on.
# Any other first word runs weed with the words as given.

has_flag() {  # has_flag -name ARGS…: is -name or -name=… among ARGS
    flag=$1; shift
    for word in "$@"; do
        case $word in "$flag"|"$flag"=*) return 0 ;; esac
    done
    return 1
}

role=$1
[ $# -gt 0 ] && shift
case $role in
    master) exec /usr/bin/weed -logtostderr=true master -mdir=/data -volumePreallocate -volumeSizeLimitMB=1024 "$@" ;;
    volume)
        if has_flag -max "$@"; then exec /usr/bin/weed -logtostderr=true volume -dir=/data "$@"; fi
        exec /usr/bin/weed -logtostderr=true volume -dir=/data -max=0 "$@" ;;
    server)
        if has_flag -volume.max "$@"; then
            exec /usr/bin/weed -logtostderr=true server -dir=/data -master.volumePreallocate -master.volumeSizeLimitMB=1024 "$@"
        fi
        exec /usr/bin/weed -logtostderr=true server -dir=/data -volume.max=0 -master.volumePreallocate -master.volumeSizeLimitMB=1024 "$@" ;;
    filer) exec /usr/bin/weed -logtostderr=true filer "$@" ;;
    s3) exec /usr/bin/weed -logtostderr=true s3 -domainName="$S3_DOMAIN_NAME" -key.file="$S3_KEY_FILE" -cert.file="$S3_CERT_FILE" "$@" ;;
    shell)
        echo "$@" | exec /usr/bin/weed -logtostderr=true shell -cluster="$SHELL_CLUSTER" -filer="$SHELL_FILER" \
            -filerGroup="$SHELL_FILER_GROUP" -master="$SHELL_MASTER" -options="$SHELL_OPTIONS" ;;
    *) exec /usr/bin/weed "$role" "$@" ;;
esac
