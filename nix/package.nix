# Pivot as a Nix package, from a prebuilt distribution: `dist` is a directory with lib/*.jar, Pivot's jar and
# every jar it runs with, as the Maven build writes them:
#
#   ./mvnw -B -DskipTests package
#   mkdir -p nix/dist/lib && cp target/pivot-*.jar nix/dist/lib/ && tr : '\n' < target/classpath.txt | xargs cp -t nix/dist/lib/
#
# Building from source inside Nix needs the Maven dependencies as a fixed-output derivation
# (maven.buildMavenPackage and its mvnHash), which needs network access to compute; until that hash is kept in
# the repository, the jars are an input. Nothing else is needed at run time: Pivot reads squashfs, cpio and
# the compressions itself; the iPXE binaries come from pkgs.ipxe through the module's ipxeDir.
{ lib, stdenvNoCC, makeBinaryWrapper, jdk25_headless, dist, version ? "0.1.0" }:

stdenvNoCC.mkDerivation {
  pname = "pivot";
  inherit version;
  src = dist;

  nativeBuildInputs = [ makeBinaryWrapper ];

  dontBuild = true;

  # The JVM options are ./pivot's (scripts/common.sh): a small heap, short pauses; the last two let the DHCP
  # server bind its sockets to an interface (SO_BINDTODEVICE through the FFM API).
  installPhase = ''
    runHook preInstall
    mkdir -p $out/share/pivot/lib
    cp lib/*.jar $out/share/pivot/lib/
    makeWrapper ${jdk25_headless}/bin/java $out/bin/pivot \
      --add-flags "-Xms32m -Xmx256m -XX:MaxGCPauseMillis=10 -XX:GCTimeRatio=4" \
      --add-flags "--enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED" \
      --add-flags "-cp $out/share/pivot/lib/* dev.pivot.cli.Main"
    runHook postInstall
  '';

  meta = {
    description = "Network-boot server for NixOS netboot builds: ProxyDHCP or DHCP, TFTP, HTTP, boot timelines";
    mainProgram = "pivot";
    platforms = lib.platforms.linux;
    sourceProvenance = [ lib.sourceTypes.binaryBytecode ];
  };
}
