#pragma once
// Fixed test keys, made for the fuzz targets only (never used anywhere else): seeds in the corpus are signed by
// them, so the verifier reaches its claim checks from the first run.
inline constexpr const char* kFuzzRsaPem = R"pem(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCZ3eT1FfBcKrEH
52nzS/Jy5q0jHTsyzXWBsopYFAK6wIh900JVZpJ1G8Qa56wtErICk1IWURlrq4kF
vHW0QY5dsKpkUPBmhP+dakjG+aPzOGt8MNjrQcGCzQY1qmZY4bYWuP7DiSt+z88f
El1bvibZVi8NdweU65TTkmLPnwieSR1dCFCgujdTMWY7kD1hQ0cUr6fAL1Hweraw
wB1IqUCp3QbiMqK5+J+P37Y9xzgeyV4SCVUQStqPSY/GgHTQIxQPwXFtWr5YOTXd
3dfwgLKooosRd43rZTODfZWdOjqbym0S7XuWlLY8vTB5rBJkp3OutOiYietnP4yT
Ghs+klHpAgMBAAECggEAENyxjF7fwRgAH+G/WZWBf9BSGdKoo8oCpkio0tt5i5oR
MznZT4bexsT41ip8stFVTwUyViYD20n4iZeETjFvfsq/N6Brog6R/UAyMtUVn7BX
jiwDv69se69Ijo3KqtOsivux1r+z87EmLY1rjAPwGboRTMBWRT6WiCOnHsH61a65
su1/uSFMn8EqaPY6gybNbr/7qsgKzBx8CGoMC4w/72BgPZVw/F6Qzjhaog2S8Zhi
opXlPw9kaf/qzzIVW0Uhv7c5c3iMKiFtTs9zxEI/RwPG5RXgURWhQR1mesr8Zhb3
Bm6025v7rJhCzEtwiyTIptAV4gnbBOE1ss/h+Q08YQKBgQDVWNv9v+TWBbvj9W5J
WbxAQSbwGpbhAeKSbvXo1VG47vbrVf8nuh2chAtD6fz+Ic+Mk5J2AKOVaTCOKtlj
wTdWcyoDBmfPiT8aQ6BFjKzxRm8X7EwDRo92qCvEULYclRZTwb1efqqb9Z70U7dV
2qpCPPVTtUwzqj0n5QD9FAhKiQKBgQC4oNJZLHpxbNVRlGN+oY+WTz6CaXYBlVzd
aeHSDUF53nOdYMoAt0YDd9x9U6mKgaq6tstRbTkWHIdgP3Mho1NEpCdKBTsZKkRc
a/FoG8yJRB2PA8wvEj8IEf8bTWrVmWfo/MrbO/cVtUhlktXsa1vwF4wPX78Ds2Um
t3FgLmh0YQKBgDOsJvQpgwI3N0+6BPEtE8Q4Q3cJ6ZsrurWevF6dNALnldRf6sGz
eTKMZLIZPRZMGBnDMEj2VKh+Zq04QZjAlmeQ0w8SgRgp9Kem022k6coyNfwEVlDA
yUSC7L7KkaEQluzIUtZNNYM6lTo2AISBxpTucLjKg19MDy3XcErbjDqJAoGBAJZQ
sRFTChlAn2h85IhbpxicSetJS388iM/nfahTjIRZHU37WFs+26zFMGmE7NrMeSDs
5BnWUAz1iy5MWkL/wzJ2Z1p3accyR1frti6pu1vibiJa2ClWtKSwaj9jR2DCNfxV
nB7j8mXlIx03cB28xqxxr2Fw9YZgzzC3V4IUJozhAoGAQtJtuV7MwnAmFSj0/tx/
2cX5/tG0vttvOZ0orKpsc5qNGK6ubrUhpyMCqnruEUlTpmTsl/G8XMLwKIq33hxa
YXkWv+JD1+zoskIBF4tSA/QVVxJoPfEeuvq2+STvW4ykofzcKo0lkpd6vA/IJC2h
ywzceVIUogDfsZ9J6hOGswM=
-----END PRIVATE KEY-----
)pem";
inline constexpr const char* kFuzzEcPem = R"pem(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3cVmewd3K/h2HiE3
gmBD9Xn89ktzMqrXGnomm2fnQ5qhRANCAAR/0dEGMMaYIgi+KebW0P085iLEnRgV
/tIqboURjeRw8gFB6iB+WaybJ5IHSHS5Rei3tPSq1AA0lY47LVomh3hl
-----END PRIVATE KEY-----
)pem";
inline constexpr const char* kFuzzEdPem = R"pem(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIEOP22niqp0pWTODB35YLcFtblAkKnnLAXCCgza58kOD
-----END PRIVATE KEY-----
)pem";
