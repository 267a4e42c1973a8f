# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/keyport ./cmd/keyport \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keyport /usr/local/bin/keyport
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV KEYPORT_ADDR=0.0.0.0:8080 KEYPORT_DATA=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/keyport"]
CMD ["serve"]
