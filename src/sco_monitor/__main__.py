from sco_monitor.cli import main

main()
